import { CommanderError } from "commander";
import { projectNameProblem } from "../infra/names.js";
import { checkEnvironment } from "./environment.js";
import { EXIT, exitCodeFor } from "../core/exit-codes.js";
import { printError } from "./output.js";
import { buildProgram, registerCommands } from "./program.js";
import { commanderOutput, whenStdioCreated } from "./stdio.js";

/**
 * Runs the CLI and returns the exit code. The only place that decides it: commands return normally
 * (0) or throw; the thrown error's kind picks the code.
 */
export async function run(argv: string[]): Promise<number> {
  installDefaultInterruptHandler();
  ignoreBrokenPipes();
  const program = buildProgram();
  program.configureOutput(commanderOutput(program.configureOutput(), brokenPipe)); // before the commands, which inherit it
  registerCommands(program);
  const debug = argv.includes("--debug");
  const output = argv.some((a, i) => a === "--output=json" || ((a === "--output" || a === "-o") && argv[i + 1] === "json"))
    ? "json"
    : "text";
  try {
    checkEnvironment(process.env); // every variable synkti reads, before anything reads one
    await program.parseAsync(argv);
    return Number(process.exitCode ?? EXIT.ok);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version are "errors" in commander's exitOverride mode; their exit code is 0.
      if (error.exitCode === 0) return EXIT.ok;
      // Commander already said what is wrong on stderr; a script asking for JSON gets a shape too.
      if (output === "json") {
        const message = error.message.replace(/^error: /, "");
        process.stdout.write(`${JSON.stringify({ error: { code: "usage", message, remedy: "synkti --help" } }, null, 2)}\n`);
      }
      return EXIT.usage;
    }
    printError(error, { debug, output, ...projectOf(argv) });
    return exitCodeFor(error);
  }
}

/**
 * The project this run is about, when its flag is there and valid: lower layers that do not know
 * it (AWS error mapping, file checks) write `<project>` in remedies, and the printed fix should
 * carry the operator's own name.
 */
function projectOf(argv: string[]): { project?: string } {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = arg.startsWith("--project-name=") ? arg.slice("--project-name=".length) : arg === "--project-name" || arg === "-p" ? argv[i + 1] : undefined;
    if (value !== undefined) return projectNameProblem(value) === undefined ? { project: value } : {};
  }
  return {};
}

/**
 * Ctrl-C or SIGTERM while no command has its own handler (start-up, context detection, read-only
 * commands): exit 130 at once, as the contract says, instead of dying by the signal. Commands that
 * create something (launch, uploads, the worker) install their own handlers, which clean up first;
 * this one then stays out of their way.
 */
function installDefaultInterruptHandler(): void {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const fallback = () => {
      if (process.listenerCount(signal) > 1) return; // a command handles it
      process.stderr.write(`Interrupted (${signal}). Running the same command again is safe.\n`);
      process.exit(EXIT.interrupted);
    };
    process.on(signal, fallback);
  }
}

/**
 * `synkti ... | head` closes the pipe early: that is the reader's choice, not an error to report.
 * Handled on each stream when it is made (stdio.ts keeps them from being made just for this).
 */
function ignoreBrokenPipes(): void {
  whenStdioCreated((stream) =>
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE") brokenPipe();
      throw error;
    }),
  );
}

function brokenPipe(): never {
  process.exit(Number(process.exitCode ?? EXIT.ok));
}
