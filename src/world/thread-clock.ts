// How long the calling thread was runnable but waited for a CPU (behind other threads or processes),
// as the Linux scheduler counts it. Around a tick it tells a tick that had more to do from one that
// waited for a core. Elsewhere than Linux there is no reading.
import { readFileSync } from "node:fs";

/**
 * A thread's total wait for a CPU, ms, from its schedstat file (`/proc/thread-self/schedstat`, or
 * another process's `/proc/PID/task/TID/schedstat`: "<ns on a cpu> <ns waiting on a run queue>
 * <timeslices>"). The wait is exact (counted when the thread gets its CPU); the time on a CPU is not
 * read: for a running thread the kernel brings it up to date only at the scheduler's ticks (every 4 ms
 * at 250 Hz). Throws where there is no such file.
 */
export function readWaitMs(path: string): number | undefined {
  const waitMs = Number(readFileSync(path, "latin1").split(" ")[1]) / 1e6;
  return Number.isFinite(waitMs) ? waitMs : undefined;
}

let available: boolean | undefined;

/** The calling thread's time waiting for a CPU so far, ms, or undefined where the system does not tell it. */
export function waitedMs(): number | undefined {
  if (available === false) return undefined;
  try {
    const waitMs = readWaitMs("/proc/thread-self/schedstat");
    available = waitMs !== undefined;
    return waitMs;
  } catch {
    available = false;
    return undefined;
  }
}
