import path from "node:path";
import type { AwsClients } from "../aws/clients.js";
import { createEc2Peers, type Ec2Peers, type TerminateSelfOutcome } from "../aws/ec2-peers.js";
import { createObjectReader } from "../aws/s3-objects.js";
import type { ContextReport } from "../context/types.js";
import type { ImdsClient } from "../context/imds-client.js";
import type { Clock } from "../core/clock.js";
import { SynktiError, messageOf } from "../core/errors.js";
import type { Logger } from "../core/log.js";
import { projectNames } from "../infra/names.js";
import type { InstanceFacts } from "../preflight/worker/index.js";
import type { PreflightReport } from "../preflight/types.js";
import { Discovery } from "./discovery/discovery.js";
import { AgentFailover } from "./failover/agent-failover.js";
import { recordHealthAsReplacement } from "./failover/replacement-health.js";
import { workerStandingPlan } from "./failover/worker-plan.js";
import { EarlyNotices } from "./interruption/early-notices.js";
import { InterruptionWatcher } from "./interruption/watcher.js";
import { checkModelServerAuth } from "./load-balancer/auth-check.js";
import { drainWorker } from "./load-balancer/drain.js";
import { LoadBalancerMember } from "./load-balancer/member.js";
import { downHasBegun } from "./load-balancer/stop-marker.js";
import { elbTargetGroupApi, TargetRegistration, type TargetGroupApi } from "./load-balancer/target-registration.js";
import { rebalanceMonitor, spotInterruptionMonitor, type InterruptionEvent } from "./interruption/monitors.js";
import { modelServerArgv } from "./model-server/command-template.js";
import type { Killer, Spawner } from "./model-server/process-group.js";
import { httpProbes, recentReading } from "./model-server/probes.js";
import { ModelServerSupervisor } from "./model-server/supervisor.js";
import type { RunAsDeps } from "./model-server/run-as.js";
import { drainBudgetMs, type WorkerOptions } from "./options.js";
import { askPeerStatus } from "../cluster/peer-client.js";
import { startStatusServer, type StatusServer } from "./status/status-server.js";
import { buildStatusDocument } from "./status/build-document.js";
import { workerRepair, type WorkerRepair } from "./repair/worker-repair.js";
import { WorkerReporter } from "./state/reporter.js";
import { stateOfModelServer } from "./state/worker-state.js";
import { redactSecrets } from "../core/redact.js";
import { s3TraceStore, type TraceStore } from "./trace/trace-store.js";
import { beforeServing, FAILURE_EXIT_CODES } from "./boot/before-serving.js";

/** The agent's collaborators, built in one place (src/cli/commands/worker.ts) or by a test. */
export interface WorkerDeps {
  clients: AwsClients;
  /** Default: createEc2Peers(clients). */
  ec2?: Ec2Peers;
  /** The target group calls. Default: elbTargetGroupApi(clients). */
  targets?: TargetGroupApi;
  /** Where the failure record and the boot log go. Default: the project's bucket (s3TraceStore). */
  store?: TraceStore;
  imds: ImdsClient;
  clock: Clock;
  log: Logger;
  spawn: Spawner;
  kill?: Killer;
  random?: () => number;
  /** This executable, for the checksum requirement. */
  self: { execPath: string; isSingleBinary: boolean };
  /** PATH the model server command is resolved on. */
  envPath: string;
  /** Who am I and which users exist (the model server's own user). Default: this process and /etc/passwd. */
  users?: RunAsDeps;
}

export interface WorkerRun {
  verdict: ContextReport;
  signal?: AbortSignal;
  /** Replaces the failover as the reaction to a notice (tests); by default a notice starts the failover. */
  onNotice?: (event: InterruptionEvent) => void | Promise<void>;
  /** Called once everything runs, with where the status endpoint listens. */
  onStarted?: (started: { endpoint: string; facts: InstanceFacts }) => void;
}

export type WorkerOutcome =
  | { kind: "unsafe" | "unknown"; report: PreflightReport }
  | { kind: "stopped" }
  /** Its weights could not be fetched or verified (the error names the file, chunk or entry, and the fix). */
  | { kind: "refused"; error: SynktiError }
  /** `unauthenticated`: its model server served without the project's API key, so it never joined. */
  | { kind: "gave-up"; reason: string; termination: TerminateSelfOutcome | { error: string }; unauthenticated?: true };

/**
 * The worker agent: preflight (refuse to start when UNSAFE), then the status endpoint, the endpoint
 * tag, the model server under supervision, peer discovery and the interruption watcher, until
 * `signal` aborts (outcome "stopped", everything stopped gracefully) or the model server cannot be
 * kept alive (outcome "gave-up": the instance terminates itself, an idle GPU only costs money; no
 * replacement is launched for it, unlike on a spot notice).
 * Throughout, the WorkerReporter publishes its state and a pending notice as tags on itself and its
 * boot log in S3; an end of its own making (refused preflight, given up) leaves a failure record.
 */
export async function runWorker(deps: WorkerDeps, options: WorkerOptions, run: WorkerRun): Promise<WorkerOutcome> {
  const { clock, log } = deps;
  const ec2 = deps.ec2 ?? createEc2Peers(deps.clients);
  const names = projectNames(options.project);
  const instanceId = run.verdict.evidence.instanceId;
  // Secret values read later (the API key): redacted from the boot log and the model server's output.
  const secrets = new Set<string>();
  // Tags and trace need the instance id; a worker verdict always has one (IMDS identity).
  const reporter = instanceId
    ? new WorkerReporter(
        { ec2, store: deps.store ?? s3TraceStore(deps.clients, names.bucket), clock, log: log.child({ component: "reporter" }) },
        { instanceId, names, bootLog: options.bootLog, retryMs: options.tagRetryMs, secrets },
      )
    : undefined;
  try {
    return await supervise(deps, ec2, options, run, reporter, secrets);
  } finally {
    await reporter?.close(options.shutdownFlushMs);
  }
}

/** runWorker's body; the reporter is closed (last writes given their grace) by the caller. */
async function supervise(deps: WorkerDeps, ec2: Ec2Peers, options: WorkerOptions, run: WorkerRun, reporter: WorkerReporter | undefined, secrets: Set<string>): Promise<WorkerOutcome> {
  // The watcher starts before the preflight: a notice that comes while the worker boots is seen (and
  // tagged) at once, and handed to the failover as soon as it exists (it needs the preflight's facts).
  const watching = new AbortController();
  const notices = new EarlyNotices(deps.log, run.onNotice);
  const watcher = new InterruptionWatcher({ clock: deps.clock, log: deps.log.child({ component: "interruption" }) }, [spotInterruptionMonitor(deps.imds, deps.clock), rebalanceMonitor(deps.imds, deps.clock)], {
    ...options.interruption,
    onNotice: (event) => {
      reporter?.notice(event);
      return notices.deliver(event);
    },
  });
  // Until the worker stops (below, with `stop`) or the preflight ends it: a SIGTERM drain still hears notices.
  const watched = watcher.run(watching.signal);
  try {
    return await serve(deps, ec2, options, run, reporter, secrets, { watcher, notices, stop: watching });
  } finally {
    watching.abort();
    await watched;
  }
}

async function serve(
  deps: WorkerDeps,
  ec2: Ec2Peers,
  options: WorkerOptions,
  run: WorkerRun,
  reporter: WorkerReporter | undefined,
  secrets: Set<string>,
  watching: { watcher: InterruptionWatcher; notices: EarlyNotices; stop: AbortController },
): Promise<WorkerOutcome> {
  const { watcher, notices } = watching;
  const { clock, log } = deps;
  const ready = await beforeServing(deps, options, run, reporter);
  if ("ended" in ready) return ready.ended;
  const { context, runAs } = ready;
  const facts = await context.instance();
  // Both read (and cached) by the preflight, which passed: the key exists, the group too.
  const [apiKey, targetGroup] = await Promise.all([context.apiKey(), context.targetGroup()]);
  secrets.add(apiKey!);

  const host = options.modelServerHost ?? facts.localIpv4;
  const probeHost = host === "0.0.0.0" ? facts.localIpv4 : host;
  const modelServerUrl = `http://${probeHost}:${options.modelServerPort}`;
  const argv = modelServerArgv(options.modelServerCommand, { model_dir: path.join(options.modelsDir, options.model ?? ""), model: options.model, host, port: String(options.modelServerPort) });
  const stop = new AbortController();
  // Once the worker stops (refused, given up, stopping), notices start nothing more.
  stop.signal.addEventListener("abort", () => watching.stop.abort(), { once: true });
  // The failover stops the model server alone, once its replacement serves: the agent stays, answering
  // /status (its timeline) until AWS reclaims the instance.
  const serverStop = new AbortController();
  const lbLog = log.child({ component: "load-balancer" });
  const registration = new TargetRegistration(
    { api: deps.targets ?? elbTargetGroupApi(deps.clients), clock, log: lbLog },
    { targetGroup: context.names.targetGroup, instanceId: facts.instanceId, retryMs: options.tagRetryMs, ...(targetGroup ? { known: targetGroup } : {}) },
  );
  let refused: string | undefined;
  const member = new LoadBalancerMember(
    {
      registration,
      checkAuth: (signal) => checkModelServerAuth(modelServerUrl, apiKey!, { timeoutMs: 2000, signal }),
      downBegun: (signal) => downHasBegun(deps.imds, signal),
      modelServerHealthy: () => supervisor.status().state === "healthy",
      clock,
      log: lbLog,
      onRefused: (reason) => {
        refused = reason;
        stop.abort(new Error(reason)); // the model server stops: it must not serve this way
      },
    },
    options.loadBalancer,
  );
  const metrics = httpProbes(modelServerUrl, 300);
  const statusInFlight = recentReading(() => metrics.inFlight(), clock);
  // SIGTERM and the failover's DRAIN alike: leave the load balancer, let what runs finish (or the deadline).
  const drain = (deadlineAt: number, signal: AbortSignal) => {
    repair?.stopClaiming(); // leaving: it repairs nobody else's slot any more
    reporter?.state("draining");
    supervisor.noMoreRestarts();
    const inFlight = async (signal: AbortSignal) => (["healthy", "unhealthy"].includes(supervisor.status().state) ? metrics.inFlight(signal) : 0);
    return drainWorker({ clock, log: lbLog, target: member, inFlight }, { deadlineAt, pollMs: options.drain.pollMs }, signal);
  };
  const onOuterAbort = () => {
    void drain(clock.now() + drainBudgetMs(options), stop.signal).finally(() => stop.abort(run.signal?.reason));
  };
  run.signal?.addEventListener("abort", onOuterAbort, { once: true });

  if (runAs) log.info({ user: runAs.user, uid: runAs.uid }, "the model server runs as its own user, without access to the instance role");
  const supervisor = new ModelServerSupervisor(
    {
      clock,
      log,
      spawn: deps.spawn,
      ...(runAs ? { runAs } : {}),
      ...(deps.kill ? { kill: deps.kill } : {}),
      probes: httpProbes(modelServerUrl),
      redact: (line) => redactSecrets(line, secrets),
      // Before giving up, `failed` waits for the record (below): the state follows the record.
      onChange: (status) => {
        if (status.state === "healthy") member.onModelServerHealthy();
        if (status.state !== "failed" && !member.isDraining) reporter?.state(stateOfModelServer(status.state));
      },
    },
    // The key in the environment, never in argv (`ps` shows argv to every user of the machine).
    { ...options.supervisor, argv, env: { ...options.env, VLLM_API_KEY: apiKey! } },
  );
  // Repair (issue 12) reads discovery's listings and asks; built below, once the failover exists.
  let repair: WorkerRepair | undefined;
  const discovery = new Discovery(
    {
      ec2,
      clock,
      log: log.child({ component: "discovery" }),
      random: deps.random ?? Math.random,
      askPeer: (endpoint, expect, signal) => askPeerStatus(endpoint, { timeoutMs: options.discovery.askTimeoutMs, expect, signal }),
      onListing: (instances, at) => repair?.discovery.onListing(instances, at),
      watched: () => repair?.discovery.watched() ?? [],
      onRound: (asked, at) => repair?.discovery.onRound(asked, at),
    },
    { project: options.project, self: facts.instanceId, ...options.discovery },
  );
  let supervised: Promise<unknown> = Promise.resolve();
  const store = deps.store ?? s3TraceStore(deps.clients, context.names.bucket);
  const failover = new AgentFailover(
    {
      clients: deps.clients,
      imds: deps.imds,
      store,
      clock,
      log: log.child({ component: "failover" }),
      names: context.names,
      facts,
      targetGroupArn: targetGroup?.arn,
      claim: (slot, signal) => repair?.claimForFailover(slot, signal) ?? Promise.resolve(undefined),
      hooks: {
        // undefined: not known (/metrics unreadable, or cut by the worker stopping), never reported as none.
        drain: async (until, signal) => ({ inFlight: (await drain(until, AbortSignal.any([signal, stop.signal]))).inFlight }),
        stopModelServer: async () => {
          serverStop.abort(new Error("replaced: the failover stops the model server"));
          await supervised;
          reporter?.state("retiring");
        },
        terminateSelf: async () => {
          const outcome = await ec2.terminateSelf(facts.instanceId, { dryRun: options.dryRun }, stop.signal);
          log.warn({ outcome }, options.dryRun ? "dry run: this replaced instance was not terminated" : "still alive after the notice time: terminating this replaced instance");
        },
      },
    },
    options,
  );
  /** Ends this instance (a dry run only asks whether it may); a refusal is the outcome, not a throw. */
  const terminateThis = (signal: AbortSignal | undefined): Promise<TerminateSelfOutcome | { error: string }> =>
    ec2.terminateSelf(facts.instanceId, { dryRun: options.dryRun }, signal).catch((error: unknown) => ({ error: messageOf(error) }));
  // Surplus or duplicate: leave exactly as on SIGTERM (the load balancer drains it: no failed
  // request), then stop the model server and end the instance; the agent then waits for AWS's SIGTERM.
  const retireSelf = async (reason: string) => {
    // `retiring` first: from then on no census counts it as a holder (nor asks it to retire again).
    reporter?.state("retiring");
    await reporter?.flushTags(options.shutdownFlushMs);
    await drain(clock.now() + drainBudgetMs(options), stop.signal);
    serverStop.abort(new Error(`retired by repair (${reason})`));
    await supervised;
    const outcome = await terminateThis(stop.signal);
    log.warn({ outcome, reason }, options.dryRun ? "dry run: this retired instance was not terminated" : "retired by repair: terminating this instance");
  };
  repair = workerRepair(
    {
      clients: deps.clients,
      ec2,
      failover,
      clock,
      log: log.child({ component: "repair" }),
      names: context.names,
      self: facts,
      dryRun: options.dryRun,
      endpointOf: (id) => discovery.membership.peers().find((peer) => peer.instanceId === id)?.endpoint ?? undefined,
      retireSelf: (reason) => void retireSelf(reason).catch((error: unknown) => log.error({ error: messageOf(error) }, "retiring this worker failed")),
    },
    { stateDir: options.failover.stateDir, ...options.repair },
    stop.signal,
  );
  // The failover's plan, verified ahead of any notice (a DryRun of the very request), on /status and a tag.
  const plan = workerStandingPlan(
    { clients: deps.clients, imds: deps.imds, clock, random: deps.random ?? Math.random, log: log.child({ component: "plan" }), names: context.names, facts, clusterSize: () => discovery.membership.size(), onChange: (p) => reporter?.plan(p.ready ? "ready" : (p.code ?? "unobservable")) },
    options,
  );

  // Stopped while this was being set up: the listener came too late to hear it.
  if (run.signal?.aborted) onOuterAbort();
  let server: StatusServer | undefined;
  const loops: Promise<unknown>[] = [];
  try {
    server = await startStatusServer({ host: facts.localIpv4, port: options.statusPort, log }, {
      healthy: () => member.serving(supervisor.status().state === "healthy"),
      document: async () =>
        buildStatusDocument({
          project: options.project,
          facts,
          endpoint: server!.endpoint,
          modelServer: supervisor.status(),
          inFlight: supervisor.status().state === "healthy" ? await statusInFlight() : undefined,
          peers: discovery.membership.peers(),
          clusterSize: discovery.membership.size(),
          stats: discovery.stats,
          interruption: watcher.snapshot(),
          loadBalancer: { targetGroup: context.names.targetGroup, registered: member.registered, draining: member.isDraining },
          failover: { ...failover.status(), plan: plan.status() },
          repair: repair?.status(),
        }),
    }).catch((error: unknown) => {
      // The preflight saw the port free; something took it since.
      throw new SynktiError(`The status endpoint cannot listen on ${facts.localIpv4}:${options.statusPort}: ${messageOf(error)}`, {
        code: "status-port-unavailable",
        kind: "unsafe",
        remedy: `ss -ltnp 'sport = :${options.statusPort}'`,
        cause: error,
      });
    });
    // Before any notice reaches it: a failover the state file holds resumes (never launches again) first.
    await failover.start();
    notices.ready(failover);
    await repair.start(); // repairs a state file holds resume before any census could claim again
    const endpoint = server.endpoint;
    // Endpoint and the model server's first state in the same tick: one CreateTags for both.
    reporter?.endpoint(endpoint);
    loops.push(
      discovery.runListings(stop.signal),
      discovery.runPeerRounds(stop.signal),
      plan.run(stop.signal),
      repair.run(stop.signal),
      // A replacement closes its doomed worker's HEALTH once it serves (the doomed one may be gone).
      recordHealthAsReplacement(
        {
          imds: deps.imds,
          reader: createObjectReader(deps.clients),
          store,
          clock,
          log: log.child({ component: "failover" }),
          names: context.names,
          self: facts.instanceId,
          serving: () => member.serving(supervisor.status().state === "healthy") && (targetGroup === undefined || member.registered),
        },
        { pollMs: 1000 },
        stop.signal,
      ),
    );
    run.onStarted?.({ endpoint, facts });

    const ran = await (supervised = supervisor.run(AbortSignal.any([stop.signal, serverStop.signal])));
    const outcome = refused !== undefined ? { kind: "gave-up" as const, reason: `refused to join the load balancer: ${refused}` } : ran;
    if (outcome.kind === "stopped") {
      reporter?.state("retiring"); // the model server is down: this worker serves nothing more
      // Replaced: wait to be reclaimed (AWS does not bill the partial hour of an interrupted instance).
      // Also when the model server ended on its own during a failover's drain (no restarts then): the
      // failover must still see its replacement serve, and end this instance, before the agent goes.
      if (serverStop.signal.aborted || failover.runner.current.status === "running") await new Promise((resolve) => (stop.signal.aborted ? resolve(undefined) : stop.signal.addEventListener("abort", resolve, { once: true })));
      return { kind: "stopped" };
    }
    log.error({ reason: outcome.reason }, "giving up on the model server: terminating this instance (nothing launches a replacement for it: the cluster has one worker less; synkti status shows why)");
    member.stopTraffic(); // out of the target group first, so the load balancer stops trying it
    // The trace first: once terminated, the instance (and its log) may be gone within seconds.
    await Promise.all([reporter?.fail(FAILURE_EXIT_CODES["gave-up"], outcome.reason, options.shutdownFlushMs), member.left(options.shutdownFlushMs)]);
    // A refusal already stopped everything (`stop`): the termination must not be cut by it.
    const ending = refused === undefined ? stop.signal : run.signal;
    const termination = await terminateThis(ending);
    if ("error" in termination) log.error({ error: termination.error, instanceId: facts.instanceId }, "could not terminate this instance; it stays up, failed");
    else log.warn({ termination }, options.dryRun ? "dry run: this instance was not terminated" : "termination requested");
    await clock.sleep(options.failedLingerMs, ending).catch(() => {});
    return { kind: "gave-up", reason: outcome.reason, termination, ...(refused !== undefined ? { unauthenticated: true as const } : {}) };
  } finally {
    stop.abort(new Error("worker stopping"));
    run.signal?.removeEventListener("abort", onOuterAbort);
    await failover.close(options.shutdownFlushMs);
    repair?.close();
    await Promise.allSettled(loops);
    await server?.close();
    await registration.close(options.shutdownFlushMs); // a pending deregistration's last chance
  }
}
