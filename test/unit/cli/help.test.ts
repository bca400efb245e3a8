/**
 * Help a newcomer can follow (issue 9 item 7), in process with the program builder: every visible
 * command marks its required options and ends with an example; `synkti help <command>` and an
 * unknown command are checked on the built binary in test/e2e/usage.test.ts.
 */
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { buildProgram, registerCommands } from "../../../src/cli/program.js";

function program(): { root: Command; output: () => string; reset: () => void } {
  let out = "";
  const root = buildProgram().configureOutput({ writeOut: (s) => void (out += s), writeErr: (s) => void (out += s) });
  registerCommands(root);
  return { root, output: () => out, reset: () => void (out = "") };
}

/** Every command a user can see, with its path (`upload model`); commander's own `upload help` aside. */
function visible(command: Command, path: string[] = []): { path: string; command: Command }[] {
  return command
    .createHelp()
    .visibleCommands(command)
    .filter((sub) => command.commands.includes(sub))
    .flatMap((sub) => [{ path: [...path, sub.name()].join(" "), command: sub }, ...visible(sub, [...path, sub.name()])]);
}

describe("help", () => {
  const { root, output, reset } = program();
  const commands = visible(root);

  it("finds the commands (a sanity check of the walk)", () => {
    expect(commands.map((c) => c.path)).toEqual(expect.arrayContaining(["status", "upload", "upload model", "infra destroy", "help"]));
  });

  it.each(commands.map((c) => [c.path, c.command] as const))("synkti %s: shows an example that runs this command", (path, command) => {
    reset();
    command.outputHelp();
    const help = output();
    const example = /\nExamples?:\n((?: {2}.*\n?)+)/.exec(help);
    expect(example, help).not.toBeNull();
    // An example of `upload model` starts with `synkti upload`; a group's may name its subcommands.
    expect(example![1]).toContain(`synkti ${path.split(" ")[0]}`);
  });

  it.each(commands.map((c) => [c.path, c.command] as const))("synkti %s: marks each required option, in the usage line and the list", (_, command) => {
    reset();
    command.outputHelp();
    const help = output();
    const usage = help.split("\n")[0]!;
    for (const option of command.options.filter((o) => o.mandatory)) {
      expect(usage).toContain(`${option.long} <`);
      expect(help).toMatch(new RegExp(`${option.long} <[^>]+>\\s+required: `));
    }
  });

  it("a mistake in a subcommand points at that command's own help", async () => {
    for (const [argv, hint] of [
      [["logs", "--project-name", "demo"], "(run synkti help logs for its options and an example)"],
      [["upload", "model", "--project-name", "demo"], "(run synkti help upload model for its options and an example)"],
    ] as const) {
      const { root: fresh, output: said } = program();
      await expect(fresh.parseAsync([...argv], { from: "user" })).rejects.toThrow();
      expect(said()).toContain(hint);
    }
  });

  it("spells out what upload model needs, in order", () => {
    reset();
    commands.find((c) => c.path === "upload model")!.command.outputHelp();
    expect(output()).toMatch(/^Usage: synkti upload model --project-name <name> --model <model> --from <dir> \[options\]$/m);
  });
});
