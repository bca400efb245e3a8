import net from "node:net";
import type { Requirement } from "../types.js";
import type { WorkerContext } from "./context.js";

type PortsObservation = { host: string; taken: Array<{ what: string; port: number; error: string }>; checked: number[] };

/** True when a listener can bind host:port now (the port is released again at once). */
export function canBind(host: string, port: number): Promise<string | undefined> {
  const server = net.createServer();
  return new Promise((resolve) => {
    server.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

/**
 * The status endpoint's and the model server's ports are free on the address they will bind.
 * Without this, a taken model server port shows up as five crashes in a row and a terminated
 * instance, long after the cause could have been named.
 */
export const portsFree: Requirement<WorkerContext, PortsObservation> = {
  id: "ports",
  title: "status and model server ports free on local-ipv4",
  dependsOn: ["worker-identity"],
  timeoutMs: 5000,
  async observe(ctx) {
    const facts = await ctx.instance();
    const host = ctx.ports.modelServerHost ?? facts.localIpv4;
    const wanted = [
      { what: "status endpoint", host: facts.localIpv4, port: ctx.ports.status },
      { what: "model server", host, port: ctx.ports.modelServer },
    ].filter((w) => w.port > 0); // 0: any free port (tests)
    const results = await Promise.all(wanted.map(async (w) => ({ ...w, error: await canBind(w.host, w.port) })));
    return {
      host: facts.localIpv4,
      checked: wanted.map((w) => w.port),
      taken: results.filter((r) => r.error !== undefined).map((r) => ({ what: r.what, port: r.port, error: r.error! })),
    };
  },
  verdict(obs) {
    if (obs.taken.length === 0) return { status: "pass", observed: obs.checked.length ? `${obs.checked.join(", ")} free on ${obs.host}` : "ports chosen at start (0)" };
    const first = obs.taken[0]!;
    return {
      status: "fail",
      observed: obs.taken.map((t) => `${t.what} port ${t.port}: ${t.error}`).join("; "),
      // Shows who holds it; the contract has no synkti command that could free someone else's port.
      fix: { command: `ss -ltnp 'sport = :${first.port}'` },
    };
  },
};
