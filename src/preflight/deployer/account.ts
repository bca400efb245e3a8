import { effectiveRegion } from "../../aws/clients.js";
import { CredentialsUnavailable } from "../../aws/credentials.js";
import { awsErrorName, classifyAwsError, toSynktiError } from "../../aws/errors.js";
import type { Requirement } from "../types.js";
import { preflightCommand, type DeployerContext } from "./context.js";
import { messageOf } from "../../core/errors.js";

export type CredentialsObservation =
  | { ok: true; arn: string; account: string }
  | { ok: false; reason: string; missing: boolean; /** A source was set up and failed (aws/credentials.ts): its reason is in `reason`. */ broken?: boolean };

/** Credentials are valid and whose they are (STS needs no permission, so this proves validity). */
export const credentials: Requirement<DeployerContext, CredentialsObservation> = {
  id: "credentials",
  title: "AWS credentials valid",
  dependsOn: ["region"],
  timeoutMs: 8000,
  async observe(ctx) {
    try {
      const who = await ctx.identity();
      return { ok: true, arn: who.arn, account: who.account };
    } catch (error) {
      const name = awsErrorName(error);
      const kind = classifyAwsError(error);
      // Unreachable endpoints are "could not observe" (unknown), not a credentials failure.
      if (kind === "unreachable") throw toSynktiError(error, "checking the credentials with AWS STS");
      const missing = kind === "no-credentials";
      if (missing || kind === "auth") {
        // Missing: which sources were set up and why each failed (aws/credentials.ts), or that none is.
        const message = messageOf(error);
        const broken = error instanceof CredentialsUnavailable && error.broken.length > 0;
        return { ok: false, missing, reason: missing ? message : `${name}: ${message}`, ...(broken ? { broken } : {}) };
      }
      throw error;
    }
  },
  verdict(obs) {
    if (obs.ok) return { status: "pass", observed: `${obs.arn} (account ${obs.account})` };
    return {
      status: "fail",
      observed: !obs.missing ? `credentials rejected: ${obs.reason}` : obs.broken ? `AWS credentials could not be loaded: ${obs.reason}` : `no AWS credentials found: ${obs.reason}`,
      // Only the AWS CLI can set credentials up; this is the one fix that does not start with synkti.
      fix: { command: "aws configure --profile <profile>", needs: ["profile"] },
    };
  },
};

export const region: Requirement<DeployerContext, string | undefined> = {
  id: "region",
  title: "AWS region set",
  observe: (ctx) => effectiveRegion(ctx.clients),
  verdict(observed, ctx) {
    if (observed) return { status: "pass", observed };
    return {
      status: "fail",
      observed: "no region: set --region, AWS_REGION or a profile region",
      fix: { command: preflightCommand(ctx, ["--region", "<region>"]), needs: ["region"] },
    };
  },
};
