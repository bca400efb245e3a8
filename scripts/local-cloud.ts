/**
 * `npm run local-cloud`: AWS without AWS, in the foreground. Starts moto, the booter (which boots
 * every instance launched into moto as local processes running their real user-data) and a load
 * balancer stand-in for each load balancer created in moto, prints the environment for the deployer
 * (SYNKTI_ENDPOINT_URL included: the port of one project's load balancer is kept from the start, as
 * `synkti infra up` creates it later), and serves a control endpoint so a second shell can play spot.
 * Subcommands and options: USAGE below (`npm run local-cloud -- --help`).
 *
 * The running one writes .local-cloud/state.json (moto URL, control URL, pid; gitignored); client
 * commands read it. Ctrl-C stops everything it started (instances, emulators, moto) and removes the state file.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { Booter, DEFAULT_SHUTDOWN_GRACE_MS, type BooterEvent } from "../test/support/booter/booter.js";
import { ControlError, controlRequest, startControlServer, type ControlAction } from "../test/support/booter/control.js";
import { startFleetDrainingOverlay } from "../test/support/load-balancer/draining-overlay.js";
import { booterResolver, watchLoadBalancers, type FleetEvent } from "../test/support/load-balancer/fleet.js";
import { projectNames, validateProjectName } from "../src/infra/names.js";
import { awsEnvFor, startMoto } from "../test/support/moto.js";
import { isAlive } from "../test/support/pid.js";
import buildIfStale from "../test/setup/build-binary.js";

// SYNKTI_LOCAL_CLOUD_STATE_DIR moves it (tests run their own local cloud next to a developer's).
const STATE_DIR = process.env.SYNKTI_LOCAL_CLOUD_STATE_DIR ?? path.resolve(import.meta.dirname, "..", ".local-cloud");
const STATE_FILE = path.join(STATE_DIR, "state.json");
const CLIENT_ACTIONS = ["instances", "load-balancers", "interrupt", "rebalance", "kill"] as const;
const LISTINGS: readonly string[] = ["instances", "load-balancers"];
/** Whose load balancer SYNKTI_ENDPOINT_URL points at without --project: the README's project. */
const DEFAULT_ENDPOINT_PROJECT = "demo";
const DIST = path.resolve(import.meta.dirname, "..", "dist");
const USAGE = `Usage: npm run local-cloud [-- OPTIONS]              run the local cloud in the foreground; Ctrl-C stops it
       npm run local-cloud -- COMMAND [<instance-id>]   act on the running one, from another shell

Options, to run it:
  --project P               boot only instances tagged SynktiCluster=P (default: every instance), and
                            point SYNKTI_ENDPOINT_URL at P's load balancer (default: ${DEFAULT_ENDPOINT_PROJECT}'s)
  --subnet A.B.C            instance addresses A.B.C.2 and up (default: a random 127.x.y)
  --env KEY=VALUE           extra environment for every instance, repeatable
                            (e.g. SYNKTI_STANDIN_STARTUP_DELAY_MS=20000)
  --shutdown-grace-ms MS    when an instance is terminated or reclaimed: SIGTERM, then SIGKILL to
                            what is left after MS (default ${DEFAULT_SHUTDOWN_GRACE_MS})
  --keep                    keep the instances' folders after Ctrl-C
  -h, --help                this help

Commands, to the running local cloud:
  instances                 what it booted: address, pid, IMDS, log file, state (JSON)
  load-balancers            its load balancer stand-ins: name, URL, targets and their health,
                            requests sent to each instance (JSON)
  interrupt <instance-id>   spot interruption notice; the instance is reclaimed 2 minutes later
  rebalance <instance-id>   rebalance recommendation
  kill <instance-id>        gone at once: SIGKILL, no notice, terminated in moto

Every load balancer created in moto gets a stand-in on 127.0.0.1, printed as
"# load balancer <name>: <url>". The project's (--project, default ${DEFAULT_ENDPOINT_PROJECT}) listens on the
port SYNKTI_ENDPOINT_URL names, kept from the start: 503 there until \`synkti infra up\` creates it.

Exit codes: 0 done, 1 failed (moto missing, no local cloud running, unknown instance), 2 usage.
`;

interface State {
  pid: number;
  motoUrl: string;
  controlUrl: string;
  rootDir: string;
  subnet: string;
  /** Where SYNKTI_ENDPOINT_URL points: the stand-in of this project's load balancer. */
  endpoint: { project: string; loadBalancer: string; url: string };
  startedAt: string;
}

const say = (line: string) => process.stderr.write(`${line}\n`);


/** The running local cloud's state, or undefined when none runs (a stale file is ignored). */
function runningState(): State | undefined {
  if (!existsSync(STATE_FILE)) return undefined;
  const state = JSON.parse(readFileSync(STATE_FILE, "utf8")) as State;
  return isAlive(state.pid) ? state : undefined;
}

async function client(action: ControlAction, instanceId: string | undefined): Promise<number> {
  if (!LISTINGS.includes(action) && !instanceId) return usage(`'${action}' wants an instance id: npm run local-cloud -- ${action} <instance-id>`);
  const state = runningState();
  if (!state) {
    say("No local cloud is running. Start one with: npm run local-cloud");
    return 1;
  }
  try {
    process.stdout.write(`${JSON.stringify(await controlRequest(state.controlUrl, action, instanceId), null, 2)}\n`);
    return 0;
  } catch (error) {
    say(`${action} failed: ${error instanceof Error ? error.message : String(error)}`);
    if (error instanceof ControlError && error.status === 404) say("List the instances with: npm run local-cloud -- instances");
    return 1;
  }
}

function exports(motoUrl: string, sysfs: string, endpointUrl: string): string {
  // A closed metadata port: the deployer must see "not on EC2" even on a cloud dev box; the empty
  // sysfs keeps such a box's own DMI from contradicting that. SYNKTI_ENDPOINT_URL: `synkti endpoint`,
  // status and a launch show the stand-in's loopback URL instead of moto's made-up DNS name.
  const env = { ...awsEnvFor(motoUrl), SYNKTI_SYSFS_ROOT: sysfs, SYNKTI_ENDPOINT_URL: endpointUrl };
  // The built binary first on PATH, so the README's `synkti ...` lines run as written, from any folder.
  const dist = `'${DIST.replaceAll("'", `'\\''`)}'`; // shell-quoted, whatever the checkout's path
  return [...Object.entries(env).map(([key, value]) => `export ${key}=${value}`), `export PATH=${dist}:"$PATH"`].join("\n");
}

async function serve(options: { project?: string; subnet?: string; keep: boolean; env: string[]; graceMs: number }): Promise<number> {
  const other = runningState();
  if (other) {
    say(`A local cloud already runs (pid ${other.pid}, moto ${other.motoUrl}); stop it first (Ctrl-C in its shell).`);
    return 1;
  }
  let endpointProject: string;
  try {
    endpointProject = validateProjectName(options.project ?? DEFAULT_ENDPOINT_PROJECT);
  } catch (error) {
    return usage(`--project: ${error instanceof Error ? error.message : String(error)}`);
  }
  const endpointLb = projectNames(endpointProject).loadBalancer;
  const bad = options.env.find((pair) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(pair));
  if (bad !== undefined) return usage(`--env wants KEY=VALUE, got '${bad}'`);
  const extra = Object.fromEntries(options.env.map((pair) => pair.split(/=(.*)/s, 2) as [string, string]));
  buildIfStale(); // the printed PATH leads to dist/synkti: it must exist and match the sources
  const onEvent = (event: BooterEvent) => say(`[local-cloud] ${event.message}`);
  await using moto = await startMoto();
  await using booter = await Booter.start({
    motoUrl: moto.url,
    onEvent,
    keepFiles: options.keep,
    env: extra,
    shutdownGraceMs: options.graceMs,
    ...(options.project ? { project: options.project } : {}),
    ...(options.subnet ? { subnet: options.subnet } : {}),
  });
  const onLoadBalancer = (event: FleetEvent) => {
    // On stdout with the exports: where each load balancer answers, as a pasteable comment.
    if (event.type === "started") process.stdout.write(`# load balancer ${event.name}: ${event.url}\n`);
    else if (event.type === "stopped") say(`[local-cloud] load balancer ${event.name} deleted from moto; its stand-in stopped`);
    else say(`[local-cloud] ${event.message}`);
  };
  await using loadBalancers = await watchLoadBalancers({ motoUrl: moto.url, resolve: booterResolver(booter), reserve: [endpointLb], onEvent: onLoadBalancer, log: (line) => say(`[local-cloud] ${line}`) });
  const endpointUrl = loadBalancers.reserved(endpointLb)!;
  // The deployer talks to moto through this proxy: moto drops a deregistered target at once, the
  // proxy shows the stand-ins' draining ones, so `synkti down` waits for in-flight requests as on AWS.
  await using deployerMoto = await startFleetDrainingOverlay(moto.url, loadBalancers);
  await using control = await startControlServer(booter, { loadBalancers: () => loadBalancers.list() });
  const sysfs = mkdtempSync(path.join(tmpdir(), "synkti-local-cloud-sysfs-"));
  const state: State = {
    pid: process.pid,
    motoUrl: moto.url,
    controlUrl: control.url,
    rootDir: booter.root,
    subnet: booter.subnet,
    endpoint: { project: endpointProject, loadBalancer: endpointLb, url: endpointUrl },
    startedAt: new Date().toISOString(),
  };
  mkdirSync(STATE_DIR, { recursive: true });
  writeFileSync(STATE_FILE, `${JSON.stringify(state, null, 2)}\n`);
  try {
    process.stdout.write(`# synkti local cloud: moto ${moto.url}, instances at ${booter.subnet}.2 and up, folders in ${booter.root}
# In another shell, to deploy into it:
${exports(deployerMoto.url, sysfs, endpointUrl)}
# then e.g.: synkti infra up --project-name ${endpointProject}; synkti upload binary --project-name ${endpointProject}; ...
# SYNKTI_ENDPOINT_URL is the stand-in of ${endpointProject}'s load balancer (${endpointLb}); it answers 503 until infra up creates it.
# Spot events: npm run local-cloud -- interrupt|rebalance|kill <instance-id>   (list: -- instances, -- load-balancers)
# Ctrl-C stops everything.
`);
    await new Promise<void>((resolve) => {
      const stop = (signal: NodeJS.Signals) => {
        say(`[local-cloud] ${signal}: stopping instances, emulators and moto (again to force)`);
        process.once(signal, () => process.exit(130)); // exit hooks still SIGKILL moto and the instances
        resolve();
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
  } finally {
    rmSync(STATE_FILE, { force: true });
    rmSync(sysfs, { recursive: true, force: true });
  }
  return 0; // `await using` stops control, the load balancer stand-ins, booter and moto, in that order, before this returns
}

/** A usage error: what is wrong, then where the help is. */
function usage(problem: string): number {
  say(`${problem}\nSee: npm run local-cloud -- --help`);
  return 2;
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        project: { type: "string" },
        subnet: { type: "string" },
        keep: { type: "boolean" },
        env: { type: "string", multiple: true },
        "shutdown-grace-ms": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    return usage(error instanceof Error ? error.message : String(error));
  }
  const { help, ...options } = parsed.values;
  if (help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const [action, instanceId, ...rest] = parsed.positionals;
  if (action === undefined) {
    const grace = options["shutdown-grace-ms"] ?? String(DEFAULT_SHUTDOWN_GRACE_MS);
    if (!/^\d+$/.test(grace)) return usage(`--shutdown-grace-ms wants a number of milliseconds (0 or more), got '${grace}'`);
    return serve({ ...options, env: options.env ?? [], keep: options.keep ?? false, graceMs: Number(grace) });
  }
  if (!(CLIENT_ACTIONS as readonly string[]).includes(action)) return usage(`Unknown command '${action}'; the commands are: ${CLIENT_ACTIONS.join(", ")}.`);
  const given = Object.keys(options).map((name) => `--${name}`);
  if (given.length > 0) return usage(`${given.join(", ")}: options are for running the local cloud, not for '${action}'.`);
  if (LISTINGS.includes(action) ? instanceId !== undefined : rest.length > 0) return usage(`Too many arguments for '${action}'.`);
  return client(action as ControlAction, instanceId);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(`local-cloud: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
