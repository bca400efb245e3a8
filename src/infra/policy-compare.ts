/**
 * Policy documents are compared by meaning, not by text: AWS hands them back re-serialised
 * (IAM URL-encodes them, may turn ["x"] into "x", reorders lists), and a textual diff would make
 * `infra up` rewrite an unchanged policy on every run. Pure functions; no I/O.
 */

/**
 * A canonical form in which IAM-equivalent documents are equal: object keys sorted, lists sorted,
 * one-element lists unwrapped (IAM treats "x" and ["x"] alike), scalars as strings (IAM compares
 * condition values as strings: true and "true" are the same).
 */
export function canonical(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(canonical).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    return items.length === 1 ? items[0] : items;
  }
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return typeof value === "string" ? value : String(value);
}

export function samePolicy(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/**
 * Parses a policy as AWS returns it: IAM's Get* calls return URL-encoded JSON (RFC 3986), S3 plain
 * JSON. Undefined when it is not JSON at all (then it differs from anything we want).
 */
export function parsePolicy(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  for (const candidate of [text, safeDecode(text)]) {
    try {
      return JSON.parse(candidate);
    } catch {
      // try the next form
    }
  }
  return undefined;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Sids present in `want` but missing or different in `have`, for a readable drift detail. */
export function differingStatements(want: unknown, have: unknown): string[] {
  const statements = (doc: unknown): Array<Record<string, unknown>> => {
    const list = (doc as { Statement?: unknown } | undefined)?.Statement;
    return (Array.isArray(list) ? list : list ? [list] : []) as Array<Record<string, unknown>>;
  };
  const haveStatements = statements(have);
  const wanted = statements(want);
  const missing = wanted
    .map((statement, i) => ({ statement, label: String(statement.Sid ?? `statement ${i + 1}`) }))
    .filter(({ statement }) => !haveStatements.some((h) => samePolicy(h, statement)))
    .map(({ label }) => label);
  const extra = haveStatements.filter((h) => !wanted.some((w) => samePolicy(h, w))).length;
  // Past a few names the list stops helping: say how many instead.
  const named = missing.length > 3 ? [...missing.slice(0, 3), `${missing.length - 3} more`] : missing;
  return extra > 0 ? [...named, `${extra} unexpected statement(s)`] : named;
}
