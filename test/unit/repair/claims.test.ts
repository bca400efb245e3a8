import { describe, expect, it } from "vitest";
import { projectNames } from "../../../src/infra/names.js";
import { accountedFor, ClaimBodySchema, claimBody, claimName, confirmClaim, nextAttempt, parseClaimKey, slotClaimsPrefix, slotOf, type ClaimSeen, type SeenInstance } from "../../../src/repair/index.js";
import { at, i } from "./fixtures.js";

const names = projectNames("demo");
const claim = (name: string, minute: number): ClaimSeen => parseClaimKey(names, `${names.claimsPrefix}${name}`, at(minute))!;

describe("claim keys", () => {
  it("the name is ProjectNames.claimKey's, below the claims prefix", () => {
    expect(names.claimKey(2, "i-0abc")).toBe("checkpoints/claims/2-i-0abc");
    expect(claimName(names, 2, "i-0abc")).toBe("2-i-0abc");
    expect(slotClaimsPrefix(names, 1)).toBe("checkpoints/claims/1-");
  });

  it.each<[string, Partial<ClaimSeen> | undefined]>([
    ["checkpoints/claims/2-i-0abc", { slot: 2, cause: "i-0abc", base: "i-0abc", attempt: 1 }],
    ["checkpoints/claims/0-i-0abc.3", { slot: 0, cause: "i-0abc.3", base: "i-0abc", attempt: 3 }],
    ["checkpoints/claims/12-d1732871234000", { slot: 12, cause: "d1732871234000", base: "d1732871234000", attempt: 1 }],
    ["checkpoints/claims/0-d1.2", { slot: 0, cause: "d1.2", base: "d1", attempt: 2 }],
    ["checkpoints/claims/0-i-0abc.1", undefined],
    ["checkpoints/claims/01-i-0abc", undefined],
    ["checkpoints/claims/0-", undefined],
    ["checkpoints/claims/0-../x", undefined],
    ["checkpoints/repair/0-i-0abc.json", undefined],
  ])("%s", (key, expected) => {
    const parsed = parseClaimKey(names, key, at(0));
    if (expected === undefined) expect(parsed).toBeUndefined();
    else expect(parsed).toMatchObject(expected);
  });

  it("the body is what the schema accepts", () => {
    expect(ClaimBodySchema.parse(claimBody(1, "i-0abc.2", 2, "i-self", at(0)))).toEqual({ slot: 1, cause: "i-0abc.2", claimer: "i-self", at: "2026-11-29T08:00:00.000Z", attempt: 2 });
  });
});

describe("the next attempt, judged at the view's time", () => {
  const dead = [i("i-dead", { slot: 0, state: "terminated", launched: 0 })];
  const next = (claims: ClaimSeen[], viewMinute: number, instances: SeenInstance[] = dead, base = "i-dead") =>
    nextAttempt(claims, 0, base, { at: at(viewMinute), instances }, slotOf);

  it.each<[string, ClaimSeen[], number, string]>([
    ["no claim: the first attempt", [], 60, "claimable i-dead"],
    ["a fresh claim holds the slot", [claim("0-i-dead", 55)], 60, "held 0-i-dead"],
    ["a claim 10 min older than the view is stale: the next attempt", [claim("0-i-dead", 50)], 60, "claimable i-dead.2"],
    ["after .2 comes .3", [claim("0-i-dead", 20), claim("0-i-dead.2", 40)], 60, "claimable i-dead.3"],
    ["a stale claim seen through an old view still holds (the view predates its launch)", [claim("0-i-dead", 50)], 45, "held 0-i-dead"],
    ["a fresh claim of another cause on the slot holds it too (another view named it)", [claim("0-d1", 58)], 60, "held 0-d1"],
    ["another slot's claim holds nothing", [claim("1-i-dead", 58)], 60, "claimable i-dead"],
  ])("%s", (_name, claims, viewMinute, expected) => {
    const n = next(claims, viewMinute);
    expect(n.kind === "held" ? `held ${n.by}` : `claimable ${n.cause}`).toBe(expected);
  });

  it("a claim made within a second or two of its dead holder's launch still holds the slot: no second attempt, no second launch", () => {
    const shortLived = [{ ...i("i-dead", { slot: 0, state: "terminated" }), launchedAt: at(55) - 1000 }];
    expect(next([claim("0-i-dead", 55)], 55, shortLived)).toEqual({ kind: "held", by: "0-i-dead", staleAt: at(55) + 10 * 60_000 });
  });

  it("a fresh claim whose launch the view shows holds nothing (the launch is the holder; if it died, its own death is the cause)", () => {
    const replacement = i("i-r", { slot: 0, state: "terminated", replaces: "i-dead", launched: 55 });
    const n = next([claim("0-i-dead", 55)], 60, [...dead, replacement], "i-r");
    expect(n).toEqual({ kind: "claimable", cause: "i-r", attempt: 1 });
  });
});

describe("accountedFor: the claim's launch, seen", () => {
  const c = claim("0-i-dead", 55);
  it.each<[string, SeenInstance[], boolean]>([
    ["an instance of the slot launched after the claim", [i("r", { slot: 0, launched: 56 })], true],
    ["launched in the same second", [i("r", { slot: 0, launched: 55 })], true],
    ["a second before it (EC2's clock behind S3's)", [{ ...i("r", { slot: 0 }), launchedAt: at(55) - 1000 }], true],
    ["long before it (the dead holder itself)", [i("i-dead", { slot: 0, launched: 0, state: "terminated" })], false],
    // An instance that died within seconds of its launch (a spot request ended at once, a crash at boot): its
    // claim comes within the clock tolerance, yet the instance the claim replaces is never its launch.
    ["the dead holder itself, launched a second before the claim", [{ ...i("i-dead", { slot: 0, state: "terminated" }), launchedAt: at(55) - 1000 }], false],
    ["another slot's launch", [i("r", { slot: 1, launched: 56 })], false],
    ["the dead holder itself, launched within the tolerance (it died at once)", [{ ...i("i-dead", { slot: 0, state: "terminated" }), launchedAt: at(55) - 1000 }], false],
  ])("%s", (_name, instances, expected) => {
    expect(accountedFor(c, instances, slotOf)).toBe(expected);
  });
});

describe("confirmClaim: two claims of one slot under different causes", () => {
  const v = { at: at(60), instances: [] };
  it.each<[string, ClaimSeen[], string, "launch" | "back-off"]>([
    ["alone", [claim("0-a", 61)], "0-a", "launch"],
    ["another, later: ours launches", [claim("0-a", 61), claim("0-b", 62)], "0-a", "launch"],
    ["another, earlier: ours backs off", [claim("0-a", 61), claim("0-b", 62)], "0-b", "back-off"],
    ["same second: both back off (safe; stale later)", [claim("0-a", 61), claim("0-b", 61)], "0-a", "back-off"],
    ["an old stale claim is no rival", [claim("0-a", 61), claim("0-b", 20)], "0-a", "launch"],
    ["our own write not listed yet", [], "0-a", "launch"],
  ])("%s", (_name, claims, mine, expected) => {
    expect(confirmClaim(mine, claims, v, slotOf)).toBe(expected);
  });
});
