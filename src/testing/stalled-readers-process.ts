// Opens N WebSocket connections to URL, prints "ready" once each has its id, then waits. Its parent
// (stalled-readers.ts) stops this process (SIGSTOP): from then on its sockets read nothing and
// answer no ping, as a frozen or hostile client would.
const [url, countArg] = process.argv.slice(2);
const count = Number(countArg ?? 1);
const sockets = await Promise.all(
  Array.from(
    { length: count },
    () =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(url!);
        ws.binaryType = "arraybuffer";
        ws.onmessage = () => resolve(ws);
        ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
      }),
  ),
);
console.log(`ready ${sockets.length}`);
setInterval(() => {}, 1 << 30);
