// The testkit's servers never outlive the run that started them: a watchdog in a session of its own
// (a Ctrl-C to the run's process group does not reach it) waits for this process to be gone, however
// it ended (a timeout's SIGKILL, Ctrl-C, a crash), then runs the cleanup. A run that stops its
// servers itself cancels it.

/** A word for sh, quoted. */
export function shellWord(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

export interface Watchdog {
  cancel(): void;
}

/** Runs `cleanup` (argv lists, one after the other) once this process has ended, unless cancelled first. */
export function cleanUpAfterThisProcess(cleanup: string[][]): Watchdog {
  const commands = cleanup.map((argv) => `${argv.map(shellWord).join(" ")} >/dev/null 2>&1`).join("; ");
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 0.5; done; ${commands}`;
  const proc = Bun.spawn(["setsid", "sh", "-c", script], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  proc.unref();
  return { cancel: () => proc.kill() };
}
