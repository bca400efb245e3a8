/**
 * Loopback ports for tests.
 *
 * Behaviour spec:
 * - `freePort(host?)` binds a TCP listener on `host` (default 127.0.0.1) port 0, reads the port the
 *   kernel chose, closes it and returns the number. Another process could take the port before the
 *   caller binds it; callers that spawn a server on it should retry on EADDRINUSE.
 * - `closedPort(host?)` returns a port where nothing listens, so a connection is refused at once
 *   (ECONNREFUSED): plays "the metadata service / AWS is unreachable". It is a freshly freed port,
 *   not a well-known one, so nothing on the machine is likely to pick it up during a test.
 * - `silentServer(host?)` accepts TCP connections and never answers (no bytes, no close): plays a
 *   hanging endpoint, so timeouts and deadlines get exercised. `connections()` counts accepted
 *   sockets; `close()` destroys them and stops listening. It is `AsyncDisposable`.
 * Only 127.0.0.0/8 addresses are accepted: tests never listen on or reach anything else.
 */
import net from "node:net";

export const LOOPBACK = "127.0.0.1";

export const isLoopback = (host: string): boolean => /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);

export function assertLoopback(host: string): void {
  if (!isLoopback(host)) {
    throw new Error(`test support listens only on 127.0.0.0/8, not on ${host}`);
  }
}

function listen(server: net.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off("error", reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

export async function freePort(host: string = LOOPBACK): Promise<number> {
  assertLoopback(host);
  const server = net.createServer();
  const port = await listen(server, host, 0);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A port that refuses connections (nothing listens there). */
export async function closedPort(host: string = LOOPBACK): Promise<number> {
  return freePort(host);
}

export interface SilentServer extends AsyncDisposable {
  readonly host: string;
  readonly port: number;
  /** `http://host:port`, handy as an endpoint that never answers. */
  readonly url: string;
  /** How many connections it accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

/** A TCP server that accepts connections and never sends a byte. */
export async function silentServer(host: string = LOOPBACK): Promise<SilentServer> {
  assertLoopback(host);
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on("error", () => {}); // the client giving up (ECONNRESET) is expected here
    socket.on("close", () => sockets.delete(socket));
    // Read and discard whatever the client sends, so its writes never block; never answer.
    socket.resume();
  });
  const port = await listen(server, host, 0);
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }));
  return {
    host,
    port,
    url: `http://${host}:${port}`,
    connections: () => accepted,
    close,
    [Symbol.asyncDispose]: close,
  };
}
