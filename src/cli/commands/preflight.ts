import { Option, type Command } from "commander";
import { SynktiError } from "../../core/errors.js";
import { validateProjectName } from "../../infra/names.js";
import { printResult } from "../output.js";
import { commonOptions, examples, launchShape, withCommonOptions, withLaunchShape, withProjectName, withRegion } from "../program.js";
import { parseWorkers } from "../parse.js";

export function registerPreflight(program: Command): void {
  const command = program
    .command("preflight")
    .description("observe everything an operation needs; exit 0 when SAFE, 1 UNSAFE (with fixes), 3 when it cannot observe")
    .addHelpText("after", examples(`synkti preflight --project-name my-app --model ${"Qwen/Qwen2.5-7B-Instruct"} --workers 2`, "synkti preflight --project-name my-app --output json   # in CI: exit 0 only when SAFE"));
  withLaunchShape(withRegion(withCommonOptions(withProjectName(command, true))))
    .option("-m, --model <model>", "model whose weights must be complete in S3")
    .addOption(new Option("-w, --workers <n>", "workers the quota must fit").argParser(parseWorkers).default(1))
    .option("--deep", "download bin/synkti and hash it instead of trusting its recorded checksum", false)
    .action(async (options) => {
      const common = commonOptions(options);
      const project = validateProjectName(options.projectName);
      const { runDeployerPreflightForCli } = await import("../deployer-deps.js");
      const { report, heading } = await runDeployerPreflightForCli({ ...options, ...launchShape(options), project });
      const { renderReport } = await import("../../preflight/report.js");
      printResult(common.output, { verdict: report.verdict, requirements: report.requirements }, () => renderReport(report, heading));
      if (report.verdict === "UNSAFE") throw new SynktiError("preflight: UNSAFE", { code: "unsafe", kind: "unsafe", silent: true });
      if (report.verdict === "UNKNOWN") throw new SynktiError("preflight: UNKNOWN", { code: "unknown", kind: "unobservable", silent: true });
    });
}
