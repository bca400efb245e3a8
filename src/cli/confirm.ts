/**
 * A yes/no question on the terminal, for commands that acquire something billed. Only asked when
 * stdin and stdout are both terminals (a person is there); scripts and CI never block on it.
 * The question goes to stderr: stdout carries only the command's result.
 */
export function canAsk(): boolean {
  return process.stdin.isTTY === true && process.stdout.isTTY === true;
}

/**
 * Resolves true for y/yes, false for anything else (Enter, n, end of input). Ctrl-C while asking:
 * readline owns the terminal in raw mode and would swallow it, so it is raised as a SIGINT for the
 * command's own handler, whose abort of `signal` rejects the question.
 */
export async function confirm(question: string, signal: AbortSignal): Promise<boolean> {
  const readline = await import("node:readline");
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  let onAbort = () => {};
  try {
    return await new Promise<boolean>((resolve, reject) => {
      onAbort = () => reject(signal.reason);
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      rl.on("SIGINT", () => process.kill(process.pid, "SIGINT"));
      rl.on("close", () => resolve(false));
      rl.question(question, (answer) => resolve(/^\s*y(es)?\s*$/i.test(answer)));
    });
  } finally {
    signal.removeEventListener("abort", onAbort);
    rl.close();
  }
}
