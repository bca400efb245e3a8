/**
 * What moto's ELBv2 leaves out of a deregistration, put back for the code under test: a proxy in
 * front of moto that shows the stand-ins' draining targets, so `synkti down` waits for them as it
 * waits on AWS.
 *
 * moto deletes a deregistered target at once (no `draining`), so down's wait would end before the
 * load balancer stand-in has even seen the deregistration, and instances would get SIGTERM with
 * requests still in flight through it: a race AWS does not have.
 *
 * Behaviour spec:
 * - Listens on 127.0.0.1 (a free port); `url` goes in AWS_ENDPOINT_URL of the deployer (not of
 *   the booter or the instances: their calls go to moto directly). Everything is forwarded to moto
 *   verbatim (Host unchanged: SigV4 signs it), bodies streamed, except two ELBv2 calls:
 * - `DeregisterTargets`: forwarded; once moto accepted it (200), `afterDeregister()` runs before the
 *   answer is returned (the stand-ins read moto now), so a target with requests in flight is
 *   `draining` from the moment the call returns, as in AWS.
 * - `DescribeTargetHealth` (no Targets filter): moto's answer plus, for each target
 *   `draining(targetGroupArn)` lists that moto no longer has, a member with State `draining`,
 *   Reason `Target.DeregistrationInProgress` (AWS's). Once the stand-in completes the drain (nothing
 *   in flight, or its delay ran out) the target is gone from the answer, as in AWS.
 *   With `health` (a stand-in plays the group): each target moto lists gets the stand-in's state,
 *   reason and description, and one the stand-in has not polled yet is `initial`
 *   (`Elb.RegistrationInProgress`), as AWS says until its health checks pass. moto says `healthy`
 *   the moment a running instance is registered: a worker asking moto whether its replacement is in
 *   rotation (a rebalance's HEALTH) would hear yes seconds before the load balancer sends it anything.
 * - `close()` / `[Symbol.asyncDispose]` stops it.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { assertLoopback, LOOPBACK } from "../free-port.js";
import type { LoadBalancerFleet } from "./fleet.js";
import type { RegisteredTarget } from "./targets.js";

export interface DrainingOverlayOptions {
  motoUrl: string;
  /** The targets of this group the load balancer stand-in is draining now. */
  draining(targetGroupArn: string): RegisteredTarget[];
  /** After moto accepted a DeregisterTargets: let the stand-ins learn it before the caller goes on. */
  afterDeregister(): Promise<void>;
  /** The stand-in's view of this group's targets; undefined when no stand-in plays it (moto's answer stands). */
  health?(targetGroupArn: string): TargetHealthView[] | undefined;
}

export interface TargetHealthView {
  instanceId: string;
  state: string;
  reason?: string;
  description?: string;
}

export interface DrainingOverlay extends AsyncDisposable {
  readonly url: string;
  close(): Promise<void>;
}

const xmlEscape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** moto's DescribeTargetHealth XML with each member's TargetHealth as the stand-in has it (`initial` if it has not seen it yet). */
export function withStandinHealth(xml: string, views: TargetHealthView[]): string {
  const byId = new Map(views.map((v) => [v.instanceId, v]));
  return xml.replace(/<member>([\s\S]*?)<\/member>/g, (member: string) => {
    const id = /<Target>[\s\S]*?<Id>([^<]*)<\/Id>/.exec(member)?.[1];
    if (id === undefined || !/<TargetHealth>[\s\S]*?<\/TargetHealth>/.test(member)) return member;
    const view = byId.get(id) ?? { instanceId: id, state: "initial", reason: "Elb.RegistrationInProgress", description: "Target registration is in progress" };
    const health = `<TargetHealth><State>${xmlEscape(view.state)}</State>${view.reason ? `<Reason>${xmlEscape(view.reason)}</Reason>` : ""}${view.description ? `<Description>${xmlEscape(view.description)}</Description>` : ""}</TargetHealth>`;
    return member.replace(/<TargetHealth>[\s\S]*?<\/TargetHealth>/, health);
  });
}

/** moto's DescribeTargetHealth XML with `extra` draining members added (ids it already lists are left alone). */
export function addDrainingMembers(xml: string, extra: RegisteredTarget[]): string {
  const listed = new Set([...xml.matchAll(/<Id>([^<]*)<\/Id>/g)].map((m) => m[1]));
  const members = extra
    .filter((t) => !listed.has(t.instanceId))
    .map((t) => `<member><Target><Id>${xmlEscape(t.instanceId)}</Id><Port>${t.port}</Port></Target><HealthCheckPort>${t.port}</HealthCheckPort><TargetHealth><State>draining</State><Reason>Target.DeregistrationInProgress</Reason><Description>Target deregistration is in progress</Description></TargetHealth></member>`)
    .join("");
  if (!members) return xml;
  if (xml.includes("</TargetHealthDescriptions>")) return xml.replace("</TargetHealthDescriptions>", `${members}</TargetHealthDescriptions>`);
  if (xml.includes("<TargetHealthDescriptions/>")) return xml.replace("<TargetHealthDescriptions/>", `<TargetHealthDescriptions>${members}</TargetHealthDescriptions>`);
  return xml.replace("<DescribeTargetHealthResult>", `<DescribeTargetHealthResult><TargetHealthDescriptions>${members}</TargetHealthDescriptions>`);
}

export async function startDrainingOverlay(options: DrainingOverlayOptions): Promise<DrainingOverlay> {
  const moto = new URL(options.motoUrl);
  assertLoopback(moto.hostname);
  const server = http.createServer((req, res) => {
    const form = (req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded");
    const send = (body?: Buffer) =>
      new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer } | undefined>((resolve) => {
        const upstream = http.request({ host: moto.hostname, port: moto.port, method: req.method, path: req.url, headers: req.headers, agent: false }, (answer) => {
          if (!body) {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
            return resolve(undefined);
          }
          const chunks: Buffer[] = [];
          answer.on("data", (c: Buffer) => chunks.push(c));
          answer.on("end", () => resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(chunks) }));
        });
        upstream.on("error", () => {
          res.destroy();
          resolve(undefined);
        });
        if (body) upstream.end(body);
        else req.pipe(upstream);
      });
    if (!form) return void send();
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const body = Buffer.concat(chunks);
      const params = new URLSearchParams(body.toString("utf8"));
      const action = params.get("Action");
      const answer = await send(body);
      if (!answer) return;
      let out = answer.body;
      if (answer.status === 200 && action === "DeregisterTargets") await options.afterDeregister().catch(() => {});
      const filtered = [...params.keys()].some((k) => k.startsWith("Targets."));
      if (answer.status === 200 && action === "DescribeTargetHealth" && !filtered) {
        const arn = params.get("TargetGroupArn") ?? "";
        const views = options.health?.(arn);
        const moto = views ? withStandinHealth(out.toString("utf8"), views) : out.toString("utf8");
        out = Buffer.from(addDrainingMembers(moto, options.draining(arn)));
      }
      const headers = { ...answer.headers, "content-length": String(out.length) };
      delete headers["transfer-encoding"];
      res.writeHead(answer.status, headers).end(out);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: LOOPBACK, port: 0 }, () => resolve());
  });
  const url = `http://${LOOPBACK}:${(server.address() as AddressInfo).port}`;
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return { url, close, [Symbol.asyncDispose]: close };
}

/**
 * The overlay for the local cloud's stand-ins (watchLoadBalancers): their draining targets, by target
 * group name; with `standinHealth`, every target's state as the stand-in has it (see `health`).
 */
export function startFleetDrainingOverlay(motoUrl: string, fleet: Pick<LoadBalancerFleet, "list" | "get" | "sync">, options: { standinHealth?: boolean } = {}): Promise<DrainingOverlay> {
  const playing = (arn: string) => {
    const name = /:targetgroup\/([^/]+)\//.exec(arn)?.[1];
    return fleet.list().filter((lb) => name !== undefined && lb.targetGroup === name);
  };
  return startDrainingOverlay({
    motoUrl,
    draining: (arn) => playing(arn).flatMap((lb) => lb.targets.filter((t) => t.state === "draining").map((t) => ({ instanceId: t.instanceId, port: t.port }))),
    ...(options.standinHealth ? { health: (arn: string) => (playing(arn).length > 0 ? playing(arn).flatMap((lb) => lb.targets) : undefined) } : {}),
    afterDeregister: async () => {
      await fleet.sync();
      await Promise.all(fleet.list().map((lb) => fleet.get(lb.name)?.sync()));
    },
  });
}
