import net from 'node:net';

/**
 * A TCP proxy in front of the test PostgreSQL, so a test can take "the database" away from
 * one set of pools only: `down()` cuts every proxied connection and refuses new ones (what a
 * client sees while PostgreSQL restarts), `up()` accepts again on the same port.
 */
export interface TcpProxy {
  port: number;
  /** `url` with its port replaced by the proxy's. */
  via(url: string): string;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host?: string; port: number }): Promise<TcpProxy> {
  const host = target.host ?? '127.0.0.1';
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;

  const listen = async () => {
    const instance = net.createServer((client) => {
      const upstream = net.connect(target.port, host);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      instance.once('error', reject);
      instance.listen(port, '127.0.0.1', () => resolve());
    });
    port = (instance.address() as net.AddressInfo).port;
    server = instance;
  };

  const down = async () => {
    const instance = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    if (instance) await new Promise<void>((resolve) => instance.close(() => resolve()));
  };

  await listen();
  return {
    get port() {
      return port;
    },
    via: (url) => {
      const parsed = new URL(url);
      parsed.port = String(port);
      return parsed.toString();
    },
    down,
    up: async () => {
      if (!server) await listen();
    },
    close: down,
  };
}
