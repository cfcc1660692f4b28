// Opens N WebSocket connections to URL, prints "ready" once each has its id, then waits. Its parent
// (stalled-readers.ts) stops this process (SIGSTOP): from then on its sockets read nothing and
// answer no ping, as a frozen or hostile client would. Once resumed (SIGCONT), a line "report" on
// stdin makes it print, as one JSON line, what each socket got: its frames and its close code.
const [url, countArg] = process.argv.slice(2);
const count = Number(countArg ?? 1);
const got = Array.from({ length: count }, () => ({ frames: 0, closeCode: 0 }));
const sockets = await Promise.all(
  Array.from(
    { length: count },
    (_, i) =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(url!);
        ws.binaryType = "arraybuffer";
        ws.onmessage = () => {
          got[i]!.frames++;
          resolve(ws);
        };
        ws.onclose = (event) => (got[i]!.closeCode = event.code);
        ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
      }),
  ),
);
console.log(`ready ${sockets.length}`);
for await (const line of console) {
  if (line.trim() === "report") console.log(JSON.stringify(got));
}
