// A TCP proxy on a loopback port, for tests that need a connection to die the way networks kill
// them: `cut()` drops every connection at once, with no close frame and no FIN handshake seen by
// either side as an orderly close (both sockets are destroyed), and refuses none afterwards;
// `partition()` cuts them and then drops every new connection at once (as a host that resets them),
// until `heal()`: a network split between what is behind the proxy and what uses it.
import type { Socket, TCPSocketListener } from "bun";

interface Pair {
  client: Socket<Pair>;
  upstream: Socket<Pair> | undefined;
  /** Bytes from the client that arrived before the upstream connection was open. */
  early: Uint8Array[];
}

export class TcpProxy {
  private readonly pairs = new Set<Pair>();
  private partitioned = false;

  private constructor(
    private readonly listener: TCPSocketListener<Pair>,
    readonly targetPort: number,
  ) {}

  /** Listens on a free loopback port and forwards each connection to 127.0.0.1:targetPort. */
  static start(targetPort: number): TcpProxy {
    let proxy: TcpProxy;
    const listener = Bun.listen<Pair>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open(client) {
          const pair: Pair = { client, upstream: undefined, early: [] };
          client.data = pair;
          if (proxy.partitioned) {
            client.terminate();
            return;
          }
          proxy.pairs.add(pair);
          void Bun.connect<Pair>({
            hostname: "127.0.0.1",
            port: targetPort,
            socket: {
              open(upstream) {
                upstream.data = pair;
                pair.upstream = upstream;
                for (const chunk of pair.early) upstream.write(chunk);
                pair.early = [];
              },
              data(upstream, chunk) {
                upstream.data.client.write(chunk);
              },
              close(upstream) {
                upstream.data.client.end();
              },
              error() {},
            },
          }).catch(() => client.terminate());
        },
        data(client, chunk) {
          const pair = client.data;
          if (pair.upstream) pair.upstream.write(chunk);
          else pair.early.push(new Uint8Array(chunk));
        },
        close(client) {
          proxy.pairs.delete(client.data);
          client.data.upstream?.end();
        },
        error() {},
      },
    });
    proxy = new TcpProxy(listener, targetPort);
    return proxy;
  }

  get port(): number {
    return this.listener.port;
  }

  /** A WebSocket URL through the proxy. */
  get url(): string {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  /** Destroys every connection through the proxy, both sides at once. */
  cut(): void {
    for (const pair of this.pairs) {
      pair.client.terminate();
      pair.upstream?.terminate();
    }
    this.pairs.clear();
  }

  /** Cuts every connection, and drops new ones until heal(). */
  partition(): void {
    this.partitioned = true;
    this.cut();
  }

  /** The network is whole again: new connections go through. */
  heal(): void {
    this.partitioned = false;
  }

  stop(): void {
    this.heal();
    this.cut();
    this.listener.stop(true);
  }
}
