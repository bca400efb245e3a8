import type { PreflightReport, RequirementResult, Status } from "./types.js";

const LABEL: Record<Status, string> = {
  pass: "ok",
  fail: "MISSING",
  warn: "warn",
  blocked: "blocked",
  skipped: "skipped",
  unknown: "UNKNOWN",
};

/** The readable report: a headline, then each requirement in dependency order with its fix. */
export function renderReport(report: PreflightReport, heading: string): string {
  const counts = (status: Status) => report.requirements.filter((r) => r.status === status).length;
  const parts = [
    counts("fail") && `${counts("fail")} missing`,
    counts("unknown") && `${counts("unknown")} not observable`,
    counts("blocked") && `${counts("blocked")} blocked`,
    counts("warn") && `${counts("warn")} warning${counts("warn") > 1 ? "s" : ""}`,
  ].filter(Boolean);
  const summary = parts.length > 0 ? `, ${parts.join(", ")}` : `, all ${report.requirements.length} requirements met`;
  const idWidth = Math.max(...report.requirements.map((r) => r.id.length), 8);
  const lines = [`${heading}: ${report.verdict}${summary}`, ""];
  for (const r of report.requirements) lines.push(...renderRequirement(r, idWidth));
  if (report.verdict === "UNSAFE") lines.push("", "Nothing was changed. Run the fixes above, then this preflight again.");
  if (report.verdict === "UNKNOWN") lines.push("", "Some requirements could not be observed; nothing was changed.");
  return lines.join("\n");
}

function renderRequirement(r: RequirementResult, idWidth: number): string[] {
  const lines = [`  ${LABEL[r.status].padEnd(8)} ${r.id.padEnd(idWidth)}  ${r.observed}`];
  if (r.fix) lines.push(`  ${"".padEnd(8)} ${"".padEnd(idWidth)}  Run: ${r.fix}`);
  return lines;
}
