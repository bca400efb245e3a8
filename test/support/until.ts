/**
 * Polls `check` every `everyMs` until it returns a truthy value, which is returned. After
 * `timeoutMs` it throws, naming `what`, the last error `check` threw (a check that throws is asked
 * again: the thing it looks at may not be up yet), and `diagnostics()` when given (e.g. a
 * process's output). The one polling helper of the test suite.
 */
export async function until<T>(
  what: string,
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 15_000,
  everyMs = 50,
  diagnostics?: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const lastError = last ? ` (last error: ${String(last)})` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError}${diagnostics ? `\n${diagnostics()}` : ""}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
