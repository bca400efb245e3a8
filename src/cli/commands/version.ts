import type { Command } from "commander";
import { versionInfo } from "../../core/version.js";
import { printResult } from "../output.js";
import { commonOptions, examples, withCommonOptions } from "../program.js";

export function registerVersion(program: Command): void {
  withCommonOptions(program.command("version").description("print version, embedded Node and commit"))
    .addHelpText("after", examples("synkti version", "synkti version --output json"))
    .action(
    (options) => {
      const info = versionInfo();
      printResult(commonOptions(options).output, info, () => `synkti ${info.version} (node ${info.node}, commit ${info.commit})`);
    },
  );
}
