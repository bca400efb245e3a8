/**
 * Private addresses for local instances: each booted instance gets its own 127.x.y.z, so every
 * worker can bind the production ports (8000 for vLLM, 8080 for status) on "its" address, exactly
 * as on EC2 where each instance has its own private IP. Linux routes all of 127.0.0.0/8 to `lo`,
 * so no interface configuration is needed.
 *
 * A booter takes its own random /24 inside 127/8 (never 127.0.0.x, where everything else on the
 * machine listens) so that two booters running at once (two test files, another engineer's tests,
 * `npm run local-cloud`) do not hand out the same address. Before handing an address out it checks
 * that the given ports are free there; an address whose ports are taken is skipped.
 */
import net from "node:net";
import { assertLoopback } from "../free-port.js";

/** `127.a.b` with a in 1..254, b in 0..255: 65 000 subnets, so collisions between booters are rare. */
export function randomSubnet(random: () => number = Math.random): string {
  const a = 1 + Math.floor(random() * 254);
  const b = Math.floor(random() * 256);
  return `127.${a}.${b}`;
}

/** True when a TCP listener can bind `host:port` right now. */
export async function canBind(host: string, port: number): Promise<boolean> {
  const server = net.createServer();
  return new Promise<boolean>((resolve) => {
    server.once("error", () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export class AddressPool {
  private next = 2; // .1 is the subnet's "gateway" by habit; instances start at .2, as the brief says
  private readonly released: string[] = [];

  /**
   * @param subnet the first three octets, e.g. "127.0.0" or `randomSubnet()`
   * @param ports ports that must be free on an address before it is handed out
   */
  constructor(
    readonly subnet: string = randomSubnet(),
    private readonly ports: readonly number[] = [],
  ) {
    assertLoopback(`${subnet}.1`);
  }

  /** The next address whose ports are all free; throws when the /24 is used up. */
  async allocate(): Promise<string> {
    for (;;) {
      const address = this.next <= 254 ? `${this.subnet}.${this.next++}` : this.released.shift();
      if (address === undefined) throw new Error(`no free address left in ${this.subnet}.0/24`);
      const free = await Promise.all(this.ports.map((port) => canBind(address, port)));
      if (free.every(Boolean)) return address;
    }
  }

  /** Gives an address back once its instance is gone; reused only when the /24 runs out, so logs stay unambiguous. */
  release(address: string): void {
    this.released.push(address);
  }
}
