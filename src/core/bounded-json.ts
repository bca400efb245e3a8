import type { z } from "zod";

/**
 * A small document read as untrusted input: refused when longer than `maxBytes`, when not JSON, or
 * when not of `schema`'s shape; otherwise the parsed value. The caller says what it does without it.
 */
export function parseBoundedJson<T>(text: string, schema: z.ZodType<T>, maxBytes: number): { value: T } | { problem: string } {
  if (text.length > maxBytes) return { problem: `larger than ${maxBytes} bytes` };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { problem: "not JSON" };
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? { value: parsed.data } : { problem: parsed.error.issues[0]?.message ?? "bad shape" };
}
