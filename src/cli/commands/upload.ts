import { Option, type Command } from "commander";
// Constants only (its imports are types): nothing of the uploader loads for --help.
import { DEFAULT_CONCURRENCY, MAX_CONCURRENCY } from "../../deployer/upload/types.js";
import { usageError } from "../../core/errors.js";
import type { Logger } from "../../core/log.js";
import { projectNames } from "../../infra/names.js";
import { printResult } from "../output.js";
import { parseConcurrency } from "../parse.js";
import { commonOptions, examples, withCommonOptions, withProjectName, withRegion } from "../program.js";

/**
 * `synkti upload binary|model`: parse, build dependencies, call the uploader, render. The deployer
 * code (and the AWS SDK with it) loads only when an upload actually runs.
 */

/**
 * Collaborators. An upload checks its own needs before writing anything: its input (a linux-x64
 * build, a folder of weights: exit 2) first, then the bucket (exit 1 with `synkti infra up`).
 */
async function dependencies(options: { region?: string; debug?: boolean }) {
  return (await import("../deployer-deps.js")).deployerDeps(options);
}

/**
 * Ctrl-C (or SIGTERM) aborts the upload: in-flight multipart uploads are aborted and the command
 * exits 130 saying that a re-run resumes. The handler is `once`: a second Ctrl-C gets Node's
 * default and kills the process at once, for an operator who will not wait for the cleanup.
 */
async function interruptible<T>(log: Logger, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    log.warn(`${signal}: stopping the upload and aborting in-flight multipart uploads (Ctrl-C again to quit at once)`);
    controller.abort(new Error(`interrupted by ${signal}`));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    return await work(controller.signal);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/**
 * Without --file: this very executable, found by its own path rather than one relative to the
 * current folder, so `synkti upload binary` works from anywhere (and uploads the build whose
 * SHA-256 a launch from this same synkti embeds). A development run (tsx) has no build to offer.
 */
async function binaryToUpload(file: string | undefined, project: string): Promise<string> {
  if (file !== undefined) return file;
  const self = await (await import("../deployer-deps.js")).selfBinary();
  if (self) return self.path;
  throw usageError(
    "binary-file-required",
    "This synkti is a development run, not the built executable, so there is no build of its own to upload.",
    `npm run build && dist/synkti upload binary --project-name ${project}`,
  );
}

function concurrencyOption(): Option {
  return new Option("-c, --concurrency <n>", `S3 requests in flight at once (1-${MAX_CONCURRENCY})`).argParser(parseConcurrency).default(DEFAULT_CONCURRENCY);
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

export function registerUpload(program: Command): void {
  const upload = program
    .command("upload")
    .description("put the binary or model weights into the project bucket (permanent content)")
    .addHelpText("after", examples("synkti upload binary --project-name my-app", "synkti upload model --project-name my-app --model Qwen/Qwen2.5-7B-Instruct --from ./qwen"));

  withRegion(withCommonOptions(withProjectName(upload.command("binary").description("upload the linux-x64 build with its SHA-256 and version"), true)))
    .option("-f, --file <path>", "the linux-x64 build to upload (default: this synkti executable, wherever it runs from)")
    .option("--version-label <version>", "the version you expect: refused when the build says otherwise (the version is read from the build, never by running it)")
    .addOption(concurrencyOption())
    .addHelpText("after", examples("synkti upload binary --project-name my-app   # this synkti executable", "synkti upload binary --project-name my-app --file ./build/synkti   # another linux-x64 build, also from a Mac"))
    .action(async (options) => {
      const common = commonOptions(options);
      const names = projectNames(options.projectName);
      const file = await binaryToUpload(options.file, names.project);
      const deps = await dependencies({ region: options.region, debug: common.debug });
      const { uploadBinary, createProgressBar } = await import("../../deployer/upload/index.js");
      const result = await interruptible(deps.log, (signal) =>
        uploadBinary(deps, {
          names,
          file,
          concurrency: options.concurrency,
          signal,
          ...(options.versionLabel !== undefined ? { versionLabel: options.versionLabel } : {}),
          ...(options.region ? { region: options.region } : {}),
          ...(process.stderr.isTTY ? { progress: createProgressBar(process.stderr, deps.clock) } : {}),
        }),
      );
      printResult(common.output, result, () =>
        result.status === "unchanged"
          ? `Unchanged: s3://${result.bucket}/${result.key} already holds this build (synkti ${result.version}, sha256 ${result.sha256}).`
          : `Uploaded ${result.file} (synkti ${result.version}, ${mib(result.size)}) to s3://${result.bucket}/${result.key}\nsha256 ${result.sha256} (also in s3://${result.bucket}/${result.checksumKey})`,
      );
    });

  withRegion(withCommonOptions(withProjectName(upload.command("model").description("upload model weights and their manifest; resumable"), true)))
    .requiredOption("-m, --model <model>", "model name, the S3 prefix: letters, digits, ._- and one optional / (org/name)")
    .requiredOption("--from <dir>", "local folder with the weights (e.g. from huggingface-cli download --local-dir)")
    .addOption(concurrencyOption())
    .addHelpText("after", examples("huggingface-cli download Qwen/Qwen2.5-7B-Instruct --local-dir ./qwen", "synkti upload model --project-name my-app --model Qwen/Qwen2.5-7B-Instruct --from ./qwen   # re-run to resume"))
    .action(async (options) => {
      const common = commonOptions(options);
      const names = projectNames(options.projectName);
      const [{ uploadModel, createProgressBar, describeSkipped, hashCacheFile }, { validateModelName }] = await Promise.all([import("../../deployer/upload/index.js"), import("../../artifacts/model-name.js")]);
      // Exit 2 before building any AWS client.
      validateModelName(options.model, `synkti upload model --project-name ${names.project} --model <model> --from ${options.from}`);
      const deps = await dependencies({ region: options.region, debug: common.debug });
      const result = await interruptible(deps.log, (signal) =>
        uploadModel(deps, {
          names,
          model: options.model,
          from: options.from,
          concurrency: options.concurrency,
          hashCacheFile: hashCacheFile(process.env),
          signal,
          ...(options.region ? { region: options.region } : {}),
          ...(process.stderr.isTTY ? { progress: createProgressBar(process.stderr, deps.clock) } : {}),
        }),
      );
      printResult(common.output, result, () => {
        const where = `s3://${result.bucket}/${result.manifestKey}`;
        if (result.status === "unchanged") return `Unchanged: ${where} already lists these ${result.files} files (${mib(result.bytes)}); nothing uploaded.`;
        return [
          `Uploaded ${result.uploaded.length} of ${result.files} files (${mib(result.uploadedBytes)} in ${result.seconds.toFixed(1)} s, ${result.mbPerSecond.toFixed(1)} MB/s); ${result.skipped.length} already in S3.`,
          `Manifest: ${where} (${result.files} files, ${mib(result.bytes)})`,
          ...(result.ignoredEntries.length > 0 ? [`Not uploaded: ${describeSkipped(result.ignoredEntries)}`] : []),
        ].join("\n");
      });
    });
}
