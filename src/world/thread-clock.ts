// Where the calling thread's time went, as the Linux scheduler counts it: time on a CPU, and time
// runnable but waiting for one (behind other threads or processes). Around a tick it tells a tick that
// had more to do from one that waited for a core. Elsewhere than Linux there is no reading.
import { readFileSync } from "node:fs";

/** The thread's totals so far, ms. */
export interface ThreadTime {
  cpuMs: number;
  waitMs: number;
}

const SCHEDSTAT = "/proc/thread-self/schedstat";

function read(): ThreadTime | undefined {
  // "<ns on a cpu> <ns waiting on a run queue> <timeslices>"
  const [cpu, wait] = readFileSync(SCHEDSTAT, "latin1").split(" ");
  const cpuMs = Number(cpu) / 1e6;
  const waitMs = Number(wait) / 1e6;
  return Number.isFinite(cpuMs) && Number.isFinite(waitMs) ? { cpuMs, waitMs } : undefined;
}

let available: boolean | undefined;

/** The calling thread's time so far, or undefined where the system does not tell it (read once to find out). */
export function threadTime(): ThreadTime | undefined {
  if (available === false) return undefined;
  try {
    const time = read();
    available = time !== undefined;
    return time;
  } catch {
    available = false;
    return undefined;
  }
}
