import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@aws-sdk/types";
import { redactSecrets } from "../core/redact.js";
import { messageOf } from "../core/errors.js";

/**
 * A deployer's credential chain that remembers why each source gave nothing. The SDK's own chain
 * keeps only the last source's error, so a failing `credential_process`, expired credentials and
 * a profile that does not exist all read "Web identity configuration not specified". Here each
 * source is tried in the SDK's order; a source that is not set up is passed over quietly, one
 * that is set up but fails (the process exits non-zero, prints no JSON, the credentials expired,
 * half of a key pair) is named with its reason, and when none works, the error says all of it.
 */
export interface CredentialSource {
  /** In words: "environment variables", "profile 'dev' (credential_process)". */
  name: string;
  provider: AwsCredentialIdentityProvider;
  /** A problem known before asking the provider (half a key pair); the source then counts as failed. */
  precheck?: () => string | undefined;
  /** Sources reading the same profile: one failure they share is reported once, under this name. */
  group?: string;
}

export interface SourceFailure {
  source: string;
  /** False when the source is simply not set up (no variables, no such profile section). */
  configured: boolean;
  reason: string;
}

/** Named like the SDK's own error, so classifyAwsError (errors.ts) calls it "no-credentials". */
export class CredentialsUnavailable extends Error {
  override readonly name = "CredentialsProviderError";

  constructor(readonly failures: SourceFailure[]) {
    super(describe(failures));
  }

  /** The sources that were set up and failed: what the operator has to fix. */
  get broken(): SourceFailure[] {
    return this.failures.filter((f) => f.configured);
  }
}

function describe(failures: SourceFailure[]): string {
  const broken = failures.filter((f) => f.configured);
  if (broken.length === 0) return `none is set up (tried ${[...new Set(failures.map((f) => f.source))].join(", ")})`;
  return broken.map((f) => `${f.source}: ${f.reason}`).join("; ");
}

/**
 * The SDK's words for "this source is not set up at all" (as opposed to "set up, and failed").
 * An unknown message counts as a failure: better shown once too often than hidden.
 */
const NOT_SET_UP = [
  /Unable to find environment variable credentials/i,
  /is not configured with SSO credentials/i,
  /did not contain credential_process/i,
  /Web identity configuration not specified/i,
  /could not be found in shared credentials file/i,
  /Could not resolve credentials using profile/i,
  /Could not load credentials from any providers/i,
];
/** The profile named by AWS_PROFILE is in neither file: "not set up" only when nobody named it. */
const NO_SUCH_PROFILE = [/could not be found in shared credentials file/i, /Profile \S+ was not found/i];

const REFRESH_MS = 15 * 60_000;
/** A process's stderr can be long; the start says what went wrong. */
const MAX_REASON = 400;

export function explainedCredentialChain(
  sources: CredentialSource[],
  options: { profileNamed: boolean; now?: () => number },
): AwsCredentialIdentityProvider {
  const now = options.now ?? Date.now;
  return async (identityOptions) => {
    const failures: SourceFailure[] = [];
    for (const source of sources) {
      const early = source.precheck?.();
      if (early !== undefined) {
        failures.push({ source: source.name, configured: true, reason: early });
        continue;
      }
      let credentials: AwsCredentialIdentity;
      try {
        credentials = await source.provider(identityOptions);
      } catch (error) {
        // A failing credential_process's message holds its command line and stderr (`--token X`): never shown as is.
        let reason = redactSecrets(messageOf(error).trim().replace(/\s*\n\s*/g, " | ").replace(/\.+$/, ""));
        let configured = !NOT_SET_UP.some((p) => p.test(reason));
        if (NO_SUCH_PROFILE.some((p) => p.test(reason))) {
          reason = "there is no such profile in the AWS config or credentials file";
          configured = options.profileNamed;
        }
        reason = reason.slice(0, MAX_REASON); // before the comparison: a long failure shared by a profile's sources is named once
        const same = failures.find((f) => f.configured && f.reason === reason);
        if (same && source.group !== undefined) same.source = source.group;
        else if (!same) failures.push({ source: configured ? source.name : (source.group ?? source.name), configured, reason });
        continue;
      }
      const expiration = credentials.expiration;
      if (expiration !== undefined && Number.isNaN(expiration.getTime())) {
        failures.push({ source: source.name, configured: true, reason: "their expiration time is not a date" });
        continue;
      }
      if (expiration !== undefined && expiration.getTime() <= now()) {
        failures.push({ source: source.name, configured: true, reason: `they expired at ${expiration.toISOString()}` });
        continue;
      }
      // Credentials without an end are asked again every 15 minutes (a rotated key is picked up).
      return expiration ? credentials : { ...credentials, expiration: new Date(now() + REFRESH_MS) };
    }
    throw new CredentialsUnavailable(failures);
  };
}

/** Half of an access key pair in the environment: the SDK ignores it silently and moves on. */
export function environmentKeyProblem(env: NodeJS.ProcessEnv): string | undefined {
  const id = env.AWS_ACCESS_KEY_ID?.trim();
  const secret = env.AWS_SECRET_ACCESS_KEY?.trim();
  if (id && !secret) return "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not";
  if (secret && !id) return "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not";
  if (id && /[^\x21-\x7e]/.test(id)) return "AWS_ACCESS_KEY_ID holds spaces or control characters";
  if (!id && env.AWS_SESSION_TOKEN?.trim()) return "AWS_SESSION_TOKEN is set without AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY";
  return undefined;
}
