import type { Command } from "commander";
import { SynktiError, usageError } from "../../core/errors.js";
import { validateCertificateArn, validateCidrs } from "../../infra/cidr.js";
import { parseInstanceTypes, type ComputeOptions } from "../../infra/compute-policy.js";
import type { LoadBalancerOptions } from "../../infra/desired.js";
import type { DestroyResult, InfraStatus, UpResult } from "../../infra/index.js";
import { projectNames } from "../../infra/names.js";
import { printResult } from "../output.js";
import { commonOptions, examples, withCommonOptions, withProjectName, withRegion } from "../program.js";

/**
 * `synkti infra up|status|destroy`: the permanent resources. Actions only parse, build the
 * dependencies, call src/infra, render and pick the exit code; the infra module (and the AWS SDK
 * with it) loads only when one of them runs.
 */
type InfraOptions = {
  projectName: string;
  region?: string;
  output?: string;
  debug?: boolean;
};

async function dependencies(options: InfraOptions) {
  return (await import("../deployer-deps.js")).deployerDeps(options);
}

/** Changing the permanent resources needs a region and valid credentials: preflight says so first. */
async function requireSafe(options: InfraOptions, deps: Awaited<ReturnType<typeof dependencies>>) {
  const { requireSafe } = await import("../deployer-deps.js");
  await requireSafe("infra", { project: options.projectName, region: options.region, output: commonOptions(options).output }, deps);
}

/** A fix carries the operator's own flags, so it can be pasted as is. */
function command(options: InfraOptions, rest: string): string {
  return `synkti ${rest} --project-name ${options.projectName}${options.region ? ` --region ${options.region}` : ""}`;
}

/** The result is already on stdout; only the exit code (1: a precondition is missing) is left. */
function unsafe(code: string): SynktiError {
  return new SynktiError(code, { code, kind: "unsafe", silent: true });
}

const table = (rows: string[][]) => {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? "").length))) ?? [];
  return rows.map((row) => `  ${row.map((cell, i) => (i < row.length - 1 ? cell.padEnd(widths[i] ?? 0) : cell)).join("  ")}`).join("\n");
};

function renderUp(result: UpResult, options: InfraOptions): string {
  const words: Record<string, string> = {
    created: "created",
    updated: "updated",
    unchanged: "exists, unchanged",
    create: "would create",
    update: "would update",
  };
  const rows = result.resources.map((r) => [r.kind, r.name, `${words[r.action]}${r.action.startsWith("update") ? `: ${r.changes.join("; ")}` : ""}`]);
  const summary = !result.changed
    ? "Nothing to do: every resource exists, unchanged."
    : result.dryRun
      ? `Dry run: nothing was changed. Apply with: ${command(options, "infra up")}`
      : "Done.";
  return `${result.dryRun ? "Plan" : "Permanent infrastructure"} of ${options.projectName}:\n${table(rows)}\n${summary}`;
}

function renderStatus(status: InfraStatus, fix: string | null, options: InfraOptions): string {
  const rows = status.resources.map((r) => [r.kind, r.name, r.state === "present" ? "present" : `${r.state}: ${r.detail}`]);
  const bad = status.resources.filter((r) => r.state !== "present").length;
  const verdict = status.ok ? "SAFE: every permanent resource is present as desired." : `UNSAFE: ${bad} resource(s) missing or drifted.\nRun: ${fix}`;
  return `Permanent infrastructure of ${options.projectName}:\n${table(rows)}\n${verdict}`;
}

function renderDestroy(result: DestroyResult, fix: string | null, options: InfraOptions): string {
  const rows = result.resources.map((r) => [r.kind, r.name, r.action === "absent" ? "absent" : `${r.action === "delete" ? "" : "deleted: "}${r.detail}`]);
  const listing = table(rows);
  if (result.instances.length > 0) {
    return `Refusing to delete the permanent infrastructure of ${options.projectName}: ${result.instances.length} instance(s) still use it (${result.instances.join(", ")}).\n${listing}\nRun: ${fix}`;
  }
  if (!result.resources.some((r) => r.action !== "absent")) return `Nothing to delete: no permanent resource of ${options.projectName} exists.`;
  if (!result.confirmed) return `infra destroy would delete:\n${listing}\nNothing was deleted. To delete all of the above:\nRun: ${fix}`;
  return `Deleted the permanent infrastructure of ${options.projectName}:\n${listing}`;
}

type UpOptions = InfraOptions & {
  dryRun: boolean;
  allowCidr: string[];
  revokeCidr: string[];
  internal?: boolean;
  certificateArn?: string;
  instanceTypes?: string;
  allowOnDemand?: boolean;
};

/** The worker policy's instance flags, checked before any AWS call; left out, the policy keeps its record. */
function computeOptions(options: UpOptions): ComputeOptions {
  const fix = `${command(options, "infra up")} --instance-types g5.xlarge,g6.xlarge`;
  return {
    ...(options.instanceTypes !== undefined ? { instanceTypes: parseInstanceTypes("--instance-types", options.instanceTypes, fix) } : {}),
    ...(options.allowOnDemand !== undefined ? { allowOnDemand: options.allowOnDemand } : {}),
  };
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** The load balancer's flags, checked before any AWS call (a bad value is exit 2). */
function loadBalancerOptions(options: UpOptions): LoadBalancerOptions {
  const allowCidrs = validateCidrs("--allow-cidr", options.allowCidr);
  const revokeCidrs = validateCidrs("--revoke-cidr", options.revokeCidr);
  const both = allowCidrs.filter((c) => revokeCidrs.includes(c));
  if (both.length > 0) {
    throw usageError("conflicting-cidr", `${both.join(", ")} is given to both --allow-cidr and --revoke-cidr.`, command(options, "infra up") + ` --allow-cidr ${both[0]}`);
  }
  const certificateArn = validateCertificateArn(options.certificateArn);
  return {
    allowCidrs,
    revokeCidrs,
    ...(options.internal !== undefined ? { internal: options.internal } : {}),
    ...(certificateArn ? { certificateArn } : {}),
  };
}

function infraCommand(parent: Command, name: string, description: string): Command {
  return withRegion(withCommonOptions(withProjectName(parent.command(name).description(description), true)));
}

export function registerInfra(program: Command): void {
  const infra = program
    .command("infra")
    .description("the permanent resources: bucket, IAM role and profile, security groups, load balancer, target group, API key")
    .addHelpText("after", examples("synkti infra up --project-name my-app --allow-cidr 203.0.113.0/24", "synkti infra status --project-name my-app", "synkti infra destroy --project-name my-app"));

  infraCommand(infra, "up", "create or repair the permanent resources (idempotent)")
    .option("--dry-run", "print the plan and change nothing", false)
    .option("--allow-cidr <cidr>", "admit this IPv4 CIDR to the load balancer (repeatable; the ones admitted before stay)", collect, [])
    .option("--revoke-cidr <cidr>", "stop admitting this CIDR (repeatable)", collect, [])
    .option("--internal", "make a new load balancer VPC-only (an existing one keeps its scheme: changing it changes the URL)")
    .option("--no-internal", "make a new load balancer internet-facing (the default)")
    .option("--certificate-arn <arn>", "ACM certificate: HTTPS on 443, and HTTP redirects to it")
    .option("--instance-types <types>", "the instance types workers may launch (comma-separated, written into the worker policy; left out: the policy keeps its list)")
    .option("--allow-on-demand", "let a launch allow an on-demand replacement as the last resort (launch --on-demand-fallback)")
    .option("--no-allow-on-demand", "spot only again")
    .addHelpText(
      "after",
      examples(
        "synkti infra up --project-name my-app --dry-run   # the plan; nothing changes",
        "synkti infra up --project-name my-app --allow-cidr 203.0.113.0/24 --certificate-arn <arn>",
        "synkti infra up --project-name my-app --instance-types g5.xlarge,g6.xlarge --allow-on-demand",
      ),
    )
    .action(async (options: UpOptions) => {
      const common = commonOptions(options);
      const names = projectNames(options.projectName);
      const loadBalancer = loadBalancerOptions(options);
      const compute = computeOptions(options);
      const { infraUp } = await import("../../infra/index.js");
      const deps = await dependencies(options);
      if (!options.dryRun) await requireSafe(options, deps);
      const result = await infraUp(deps, names, { dryRun: options.dryRun, loadBalancer, compute });
      printResult(common.output, result, () => renderUp(result, options));
    });

  infraCommand(infra, "status", "each resource: present, missing or drifted (exit 1 unless all present)")
    .addHelpText("after", examples("synkti infra status --project-name my-app"))
    .action(async (options: InfraOptions) => {
    const common = commonOptions(options);
    const names = projectNames(options.projectName);
    const { infraStatus } = await import("../../infra/index.js");
    const status = await infraStatus(await dependencies(options), names);
    const fix = status.ok ? null : command(options, "infra up");
    printResult(common.output, { ...status, fix }, () => renderStatus(status, fix, options));
    if (!status.ok) throw unsafe("infra-not-ready");
  });

  infraCommand(infra, "destroy", "list the permanent resources, and delete them with --yes")
    .option("--yes", "really delete (bucket contents included)", false)
    .addHelpText("after", examples("synkti infra destroy --project-name my-app         # lists what it would delete", "synkti infra destroy --project-name my-app --yes   # deletes it (run synkti down first)"))
    .action(async (options: InfraOptions & { yes: boolean }) => {
      const common = commonOptions(options);
      const names = projectNames(options.projectName);
      const { infraDestroy } = await import("../../infra/index.js");
      const deps = await dependencies(options);
      if (options.yes) await requireSafe(options, deps);
      const result = await infraDestroy(deps, names, { confirmed: options.yes });
      const pending = result.resources.some((r) => r.action === "delete");
      const fix = result.instances.length > 0 ? command(options, "down") : pending ? `${command(options, "infra destroy")} --yes` : null;
      printResult(common.output, { ...result, fix }, () => renderDestroy(result, fix, options));
      if (pending) throw unsafe(result.instances.length > 0 ? "infra-in-use" : "destroy-needs-yes");
    });
}
