import { accessSync, constants } from "node:fs";
import path from "node:path";
import { isSynktiError } from "../../core/errors.js";
import { splitCommandTemplate, checkPlaceholders } from "../../worker/model-server/command-template.js";
import type { Requirement } from "../types.js";
import { workerCommand, type WorkerContext } from "./context.js";

type CommandObservation = { problem: string } | { executable: string; resolved: string | undefined };

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Like `command -v`: an absolute (or relative) path as is, a bare name on PATH. */
export function resolveExecutable(name: string, envPath: string): string | undefined {
  if (name.includes("/")) return executable(name) ? path.resolve(name) : undefined;
  for (const dir of envPath.split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    if (executable(candidate)) return candidate;
  }
  return undefined;
}

/** The model server command can run: it parses, and its first word is an executable. */
export const modelServerCommand: Requirement<WorkerContext, CommandObservation> = {
  id: "model-server-command",
  title: "model server command runnable",
  async observe(ctx) {
    try {
      checkPlaceholders(ctx.modelServerCommand);
      const [first] = splitCommandTemplate(ctx.modelServerCommand);
      return { executable: first!, resolved: resolveExecutable(first!, ctx.envPath) };
    } catch (error) {
      if (isSynktiError(error)) return { problem: error.message };
      throw error;
    }
  },
  verdict(obs, ctx) {
    const fix = { command: workerCommand(ctx, ["--model-server-command", "'<command>'"]), needs: ["command"] };
    if ("problem" in obs) return { status: "fail", observed: obs.problem, fix };
    if (obs.resolved) return { status: "pass", observed: `${obs.executable} is ${obs.resolved}` };
    const where = obs.executable.includes("/") ? "is not an executable file" : "is not on PATH";
    return { status: "fail", observed: `${obs.executable} ${where} (command: ${ctx.modelServerCommand})`, fix };
  },
};
