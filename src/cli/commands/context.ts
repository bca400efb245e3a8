import type { Command } from "commander";
import type { ContextReport } from "../../context/index.js";
import { validateProjectName } from "../../infra/names.js";
import { EXIT } from "../../core/exit-codes.js";
import { printResult } from "../output.js";
import { commonOptions, examples, withCommonOptions, withProjectName } from "../program.js";

export function registerContext(program: Command): void {
  const command = program
    .command("context")
    .description("say whether this machine is a worker (EC2, tagged for the project) or the deployer, and why")
    .addHelpText(
      "after",
      `
Evidence, fastest first: DMI under sysfs (SYNKTI_SYSFS_ROOT, default /sys), an IMDSv2 token
(AWS_EC2_METADATA_SERVICE_ENDPOINT, AWS_EC2_METADATA_DISABLED), the identity document, the instance's tags.
Exit 0 with a role; exit 3 when the layers contradict each other (e.g. DMI says EC2, IMDS is silent).`,
    )
    .addHelpText("after", examples("synkti context", "synkti context --project-name my-app --output json   # on an instance: is it my-app's worker?"));
  withProjectName(withCommonOptions(command), false).action(async (raw: Record<string, unknown>) => {
    const options = commonOptions(raw);
    const projectName = typeof raw.projectName === "string" ? validateProjectName(raw.projectName) : undefined;
    // Loaded here, not at the top: --help must not pay for the detection code and its logger.
    const [{ detectContext, contextSettingsFromEnv }, { createLogger }] = await Promise.all([
      import("../../context/index.js"),
      import("../../core/log.js"),
    ]);
    const settings = contextSettingsFromEnv(process.env);
    const log = createLogger(options.debug ? { level: "debug" } : {});
    const report = await detectContext({ ...settings, ...(projectName ? { projectName } : {}) }, { log });
    printResult(options.output, report, () => renderText(report));
    if (report.contradiction) {
      // The report stays the result on stdout (JSON included); the exit code says "could not
      // observe". The text report already shows the contradiction; JSON users get it on stderr too.
      if (options.output === "json") {
        process.stderr.write(`Contradiction: ${report.contradiction.message}\nRun: ${report.contradiction.fix}\n`);
      }
      process.exitCode = EXIT.unobservable;
    }
  });
}

function renderText(report: ContextReport): string {
  const e = report.evidence;
  const lines = [`role: ${report.role}${e.project ? ` (project ${e.project})` : ""}`, `why:  ${report.reason}`];
  if (e.instanceId) {
    lines.push(
      `instance: ${e.instanceId} (${e.instanceType}) in ${e.availabilityZone}, region ${e.region}, private IP ${e.privateIp ?? "unknown"}`,
    );
  }
  lines.push(
    "evidence:",
    `  dmi       ${e.dmi.status}: ${e.dmi.detail}`,
    `  imds      ${e.imds.status}: ${e.imds.detail}`,
    `  identity  ${e.identity.status}: ${e.identity.detail}`,
    `  tags      ${e.tags.status}: ${e.tags.detail}`,
  );
  if (report.fix) lines.push(`fix:  ${report.fix}`);
  if (report.contradiction) lines.push(`contradiction: ${report.contradiction.message}`, `  run: ${report.contradiction.fix}`);
  return lines.join("\n");
}
