/**
 * Issue 14 item 2: vLLM cannot reach the instance role. User-data makes the model server's own user
 * and rejects its packets to the metadata addresses; the agent, as root, starts the model server as
 * that user. What can be checked here: the user-data block itself, run by bash with the system
 * tools replaced by recorders (which commands, with which arguments, idempotent, skipped off EC2,
 * fatal when it cannot be done), and the agent's spawn (uid, gid, HOME), for real as root with a
 * harmless user. What cannot: that the kernel rejects the packets (this machine is shared, and tests
 * never touch 169.254.169.254).
 */
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../../src/core/log.js";
import { startProcessGroup, type Spawner } from "../../../src/worker/model-server/process-group.js";
import { MODEL_SERVER_USER, modelFolderRefusal, modelServerRunAs, passwdEntry } from "../../../src/worker/model-server/run-as.js";
import { FakeClock } from "../../support/fake-clock.js";

const TEMPLATE = readFileSync(path.resolve(import.meta.dirname, "../../../scripts/user-data.sh.tpl"), "utf8");
const BEGIN = "# --- model server user and metadata block ---";
const END = "# --- end of model server user and metadata block ---";
const block = () => {
  const start = TEMPLATE.indexOf(BEGIN);
  const end = TEMPLATE.indexOf(END);
  expect(start).toBeGreaterThanOrEqual(0);
  expect(end).toBeGreaterThan(start);
  return TEMPLATE.slice(start, end + END.length);
};

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * Runs the block under bash with `id`, `useradd`, `iptables`, `ip6tables` and `nft` replaced by
 * recorders (only those listed in `tools` exist). `id -u` answers `uid`; the user exists when
 * `userExists`; `-C` (check) finds the rule when `ruleExists`.
 */
function runBlock(opts: { uid?: number; userExists?: boolean; ruleExists?: boolean; tools?: string[]; env?: Record<string, string> }) {
  const dir = mkdtempSync(path.join(tmpdir(), "synkti-ud-block-"));
  dirs.push(dir);
  const calls = path.join(dir, "calls.log");
  const tool = (name: string, body: string) => {
    writeFileSync(path.join(dir, name), `#!/bin/bash\necho "${name} $*" >>"${calls}"\n${body}\n`);
    chmodSync(path.join(dir, name), 0o755);
  };
  tool("id", `if [ "$#" = 1 ]; then echo ${opts.uid ?? 0}; exit 0; fi; exit ${opts.userExists ? 0 : 1}`);
  for (const t of opts.tools ?? ["useradd", "iptables", "ip6tables"]) {
    tool(t, t.endsWith("tables") ? `case " $* " in *" -C "*) exit ${opts.ruleExists ? 0 : 1};; esac; exit 0` : t === "nft" ? `[ "$1" = -f ] && sed 's/^/  | /' >>"${calls}"; exit 0` : "exit 0");
  }
  if (!(opts.tools ?? ["useradd"]).includes("useradd")) tool("useradd", "exit 0");
  const script = `set -euo pipefail\nlog() { echo "LOG $*"; }\ndie() { echo "DIE $*"; exit 1; }\n${block()}\necho DONE\n`;
  let out: string;
  let code = 0;
  try {
    out = execFileSync("/bin/bash", ["-c", script], { env: { PATH: `${dir}:/usr/bin:/bin`, ...opts.env }, encoding: "utf8" });
  } catch (error) {
    const e = error as { status: number; stdout: string };
    [out, code] = [e.stdout, e.status];
  }
  let recorded: string[] = [];
  try {
    recorded = readFileSync(calls, "utf8").trim().split("\n").filter((l) => !l.startsWith("id "));
  } catch {
    recorded = [];
  }
  return { out, code, calls: recorded };
}

describe("user-data's model server user and metadata block", () => {
  it("is one delimited, self-contained block naming the agent's user", () => {
    expect(block()).toContain(`MODEL_SERVER_USER=${MODEL_SERVER_USER}\n`);
    expect(TEMPLATE.split(BEGIN)).toHaveLength(2);
  });

  it("as root on EC2: creates the user, then rejects its packets to the IPv4 and IPv6 metadata addresses", () => {
    const run = runBlock({});
    expect(run.code).toBe(0);
    expect(run.out).toContain("DONE");
    expect(run.calls).toEqual([
      `useradd --system --home-dir /var/lib/${MODEL_SERVER_USER} --create-home --shell /usr/sbin/nologin ${MODEL_SERVER_USER}`,
      `iptables -C OUTPUT -d 169.254.169.254 -m owner --uid-owner ${MODEL_SERVER_USER} -j REJECT`,
      `iptables -I OUTPUT 1 -d 169.254.169.254 -m owner --uid-owner ${MODEL_SERVER_USER} -j REJECT`,
      `ip6tables -C OUTPUT -d fd00:ec2::254 -m owner --uid-owner ${MODEL_SERVER_USER} -j REJECT`,
      `ip6tables -I OUTPUT 1 -d fd00:ec2::254 -m owner --uid-owner ${MODEL_SERVER_USER} -j REJECT`,
    ]);
  });

  it("run again (the agent restarted, a reboot kept the user and rules): adds nothing twice", () => {
    const run = runBlock({ userExists: true, ruleExists: true });
    expect(run.code).toBe(0);
    expect(run.calls.filter((c) => c.startsWith("useradd") || c.includes(" -I "))).toEqual([]);
  });

  it("uses nftables where iptables is missing: one all-or-nothing batch that replaces the table, so a second run ends the same", () => {
    const run = runBlock({ tools: ["useradd", "nft"] });
    expect(run.code).toBe(0);
    const nft = run.calls.filter((c) => c.startsWith("nft") || c.startsWith("  | "));
    expect(nft).toEqual([
      "nft -f -",
      "  | table inet synkti",
      "  | delete table inet synkti",
      "  | table inet synkti {",
      "  |   chain out {",
      "  |     type filter hook output priority 0; policy accept;",
      `  |     meta skuid ${MODEL_SERVER_USER} ip daddr 169.254.169.254 reject`,
      `  |     meta skuid ${MODEL_SERVER_USER} ip6 daddr fd00:ec2::254 reject`,
      "  |   }",
      "  | }",
    ]);
    expect(runBlock({ tools: ["useradd", "nft"], userExists: true }).calls.filter((c) => c.startsWith("nft") || c.startsWith("  | "))).toEqual(nft);
  });

  it("refuses to go on (a failure record, then the instance ends) when neither tool can block the address", () => {
    const run = runBlock({ tools: ["useradd"] });
    expect(run.code).toBe(1);
    expect(run.out).toMatch(/DIE could not keep the model server away from the instance role/);
  });

  it("does nothing off EC2: not root, or the local cloud (SYNKTI_INSTALL_PREFIX)", () => {
    expect(runBlock({ uid: 1000 }).calls).toEqual([]);
    expect(runBlock({ env: { SYNKTI_INSTALL_PREFIX: "/tmp/x/bin" } }).calls).toEqual([]);
  });
});

const PASSWD = `root:x:0:0:root:/root:/bin/bash\n${MODEL_SERVER_USER}:x:998:997::/var/lib/${MODEL_SERVER_USER}:/usr/sbin/nologin\n`;

describe("the agent starts the model server as its own user", () => {
  it("when it runs as root and the user exists; otherwise as itself (tests, the local cloud)", () => {
    expect(modelServerRunAs({ getuid: () => 0, readPasswd: () => PASSWD })).toEqual({ user: MODEL_SERVER_USER, uid: 998, gid: 997, home: `/var/lib/${MODEL_SERVER_USER}` });
    expect(modelServerRunAs({ getuid: () => 1000, readPasswd: () => PASSWD })).toBeUndefined();
    expect(modelServerRunAs({ getuid: () => 0, readPasswd: () => "root:x:0:0:root:/root:/bin/bash\n" })).toBeUndefined();
    expect(modelServerRunAs({ getuid: undefined, readPasswd: () => PASSWD })).toBeUndefined();
  });

  it("never 'becomes' root through a user entry with uid 0", () => {
    expect(passwdEntry(`${MODEL_SERVER_USER}:x:0:0::/root:/bin/bash\n`, MODEL_SERVER_USER)).toBeUndefined();
  });

  it("spawns with the user's uid, gid and HOME, and the environment otherwise unchanged; without a user, exactly as before", () => {
    const seen: Array<Record<string, unknown>> = [];
    const fake: Spawner = (_command, _args, options) => {
      seen.push(options as Record<string, unknown>);
      return spawn("true");
    };
    const deps = { spawn: fake, clock: new FakeClock(), log: silentLogger };
    startProcessGroup({ ...deps, runAs: { user: MODEL_SERVER_USER, uid: 998, gid: 997, home: "/var/lib/x" } }, ["vllm", "serve"], { VLLM_API_KEY: "k", PATH: "/p" });
    startProcessGroup(deps, ["vllm", "serve"], { VLLM_API_KEY: "k", PATH: "/p" });
    expect(seen[0]).toMatchObject({ uid: 998, gid: 997, detached: true, env: { VLLM_API_KEY: "k", PATH: "/p", HOME: "/var/lib/x", USER: MODEL_SERVER_USER, LOGNAME: MODEL_SERVER_USER } });
    expect(seen[1]).not.toHaveProperty("uid");
    expect(seen[1]).not.toHaveProperty("gid");
    expect(seen[1]!.env).toEqual({ VLLM_API_KEY: "k", PATH: "/p" });
  });

  it.skipIf(process.getuid?.() !== 0)("really runs as that user (as root, with the harmless 'nobody')", async () => {
    const nobody = passwdEntry(readFileSync("/etc/passwd", "utf8"), "nobody");
    if (!nobody) throw new Error("no 'nobody' in /etc/passwd: this test needs an unprivileged user to run as");
    const lines: string[] = [];
    const log = { ...silentLogger, child: () => ({ ...silentLogger, info: (_: unknown, line: string) => lines.push(line), debug: () => {} }) } as unknown as typeof silentLogger;
    const group = startProcessGroup({ spawn, clock: new FakeClock(), log, runAs: nobody }, ["id", "-u"], { PATH: "/usr/bin:/bin" });
    expect((await group.exited).code).toBe(0);
    await expect.poll(() => lines, { timeout: 5000 }).toContain(String(nobody.uid)); // the output is logged after the exit, not necessarily before
  });
});

describe("the model folder, as the model server's user sees it", () => {
  const user = { user: MODEL_SERVER_USER, uid: 998, gid: 997, home: "/var/lib/x" };

  it("refuses, naming the folder in the way, its mode and the chmod, when a folder above the model folder is closed to that user", async () => {
    const top = mkdtempSync(path.join(tmpdir(), "synkti-models-"));
    dirs.push(top);
    const model = path.join(top, "org", "m");
    mkdirSync(model, { recursive: true });
    chmodSync(path.join(top, "org"), 0o755);
    chmodSync(model, 0o755);
    chmodSync(top, 0o700); // as an image or operator might leave /models
    const error = await modelFolderRefusal(user, model);
    expect(error?.code).toBe("model-folder-unreadable");
    expect(error?.message).toBe(`The model server runs as ${MODEL_SERVER_USER}, which cannot pass through ${realpathSync(top)} (mode 0700, owner uid ${process.getuid?.()}) to reach ${model}; not starting it.`);
    expect(error?.remedy).toBe(`sudo chmod o+x ${realpathSync(top)}   # on the instance, or in the image the workers launch from`);

    chmodSync(top, 0o755);
    chmodSync(model, 0o750);
    expect((await modelFolderRefusal(user, model))?.remedy).toMatch(/^sudo chmod o\+rx .*\/org\/m /);
    chmodSync(model, 0o755);
    expect(await modelFolderRefusal(user, model)).toBeUndefined();
    // Its own folder, or its group's, is judged by those bits.
    expect(await modelFolderRefusal({ ...user, uid: process.getuid?.() ?? 0 }, model, async () => ({ uid: process.getuid?.() ?? 0, gid: 0, mode: 0o700 }))).toBeUndefined();
    expect(await modelFolderRefusal({ ...user, gid: 4242 }, model, async () => ({ uid: 1, gid: 4242, mode: 0o750 }))).toBeUndefined();
  });
});
