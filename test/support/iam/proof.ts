/**
 * The proof's verbs: judge recorded calls against a policy (each call Allowed only when all the IAM
 * requests it needs are), and the policy mutations the mutation test makes.
 */
import { iamRequestsFor, type Facts, type RecordedCall } from "./calls.js";
import { allowed, decide, deniedOnes, describeVerdicts, type PolicyDoc, type Verdict } from "./evaluate.js";

export interface Judged {
  label: string;
  allowed: boolean;
  verdicts: Verdict[];
}

export async function judge(policy: PolicyDoc, principal: string, calls: Array<{ label: string; call: RecordedCall; facts?: Facts }>, facts: Facts): Promise<Judged[]> {
  return Promise.all(
    calls.map(async ({ label, call, facts: own }) => {
      const requests = iamRequestsFor(call, own ?? facts);
      // A call that needs no permission (sts:GetCallerIdentity) is allowed by AWS whatever the policy.
      if (requests.length === 0) return { label, allowed: true, verdicts: [] };
      const verdicts = await decide(policy, principal, requests);
      return { label, allowed: allowed(verdicts), verdicts };
    }),
  );
}

/**
 * The first call (in order) whose allowed-ness is `wanted`, or undefined: the mutation test needs
 * one witness per mutation, not the whole table.
 */
export async function firstWhere(policy: PolicyDoc, principal: string, calls: Array<{ label: string; call: RecordedCall; facts?: Facts }>, facts: Facts, wanted: boolean): Promise<string | undefined> {
  for (const one of calls) {
    const [judged] = await judge(policy, principal, [one], facts);
    if (judged!.allowed === wanted) return one.label;
  }
  return undefined;
}

/** "label: why" for each call that is not allowed (for an assertion message). */
export const refusals = (judged: Judged[]) => judged.filter((j) => !j.allowed).map((j) => `${j.label}:\n${describeVerdicts(deniedOnes(j.verdicts))}`);
/** The labels of the calls that are allowed. */
export const admitted = (judged: Judged[]) => judged.filter((j) => j.allowed).map((j) => j.label);

/** Every (statement, operator, key) condition of a policy. */
export function conditionsOf(policy: PolicyDoc): Array<{ sid: string; operator: string; key: string }> {
  return policy.Statement.flatMap((s) => Object.entries(s.Condition ?? {}).flatMap(([operator, byKey]) => Object.keys(byKey).map((key) => ({ sid: s.Sid ?? "", operator, key }))));
}

export function withoutStatement(policy: PolicyDoc, sid: string): PolicyDoc {
  return { ...policy, Statement: policy.Statement.filter((s) => s.Sid !== sid) };
}

/** The policy with one condition dropped: the statement then allows whatever that condition kept out. */
export function widened(policy: PolicyDoc, at: { sid: string; operator: string; key: string }): PolicyDoc {
  const out = structuredClone(policy);
  const s = out.Statement.find((x) => x.Sid === at.sid)!;
  const byKey = s.Condition![at.operator]!;
  delete byKey[at.key];
  if (Object.keys(byKey).length === 0) delete s.Condition![at.operator];
  if (Object.keys(s.Condition!).length === 0) delete s.Condition;
  return out;
}
