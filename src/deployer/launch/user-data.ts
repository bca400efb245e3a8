import { SynktiError } from "../../core/errors.js";
import { projectNameProblem, projectNames, TAG_STATE } from "../../infra/names.js";
import { modelNameProblem } from "../../artifacts/model-name.js";

/**
 * Renders scripts/user-data.sh.tpl. Every value lands inside single quotes in bash, so each is
 * checked against a charset without quotes, `$` or spaces first: a value can never become code.
 * Only these values exist (and four names derived from them by src/infra/names.ts): nothing from the deployer's environment (credentials included)
 * can reach user-data, which any principal with ec2:DescribeInstanceAttribute can read.
 */
export interface UserDataParams {
  project: string;
  model: string;
  bucket: string;
  /** SHA-256 of the binary; the worker downloads bin/synkti-<sha256> and refuses any other bytes. */
  binarySha256: string;
  /** SHA-256 of the model's manifest; the agent fetches <model>/manifest-<sha256>.json, checked, then its files. */
  manifestSha256: string;
  region: string;
  /** The deployer's account: the worker refuses a bucket owned by any other (a squatted name). */
  bucketOwner: string;
  /** The manifest's total size: an instance store smaller than this is not mounted for the weights (0: unknown, mounted). */
  weightsBytes?: number;
}

/** EC2's limit on user-data, before base64 encoding. */
export const USER_DATA_LIMIT_BYTES = 16 * 1024;

const CHECKS: Record<Exclude<keyof UserDataParams, "weightsBytes">, (v: string) => string | undefined> = {
  project: projectNameProblem,
  model: modelNameProblem,
  bucket: (v) => (/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(v) ? undefined : "is not an S3 bucket name"),
  binarySha256: (v) => (/^[0-9a-f]{64}$/.test(v) ? undefined : "is not a lowercase hex SHA-256"),
  manifestSha256: (v) => (/^[0-9a-f]{64}$/.test(v) ? undefined : "is not a lowercase hex SHA-256"),
  region: (v) => (/^[a-z]{2}(-[a-z]+)+-\d+$/.test(v) ? undefined : "is not an AWS region name"),
  bucketOwner: (v) => (/^\d{12}$/.test(v) ? undefined : "is not a 12-digit AWS account id"),
};

/**
 * Names the script shares with the agent, from src/infra/names.ts: derived, not parameters. The
 * keys it downloads are the pinned ones (named by their hash, never overwritten): a replacement
 * launched from this same user-data after any re-upload still finds the very bytes it checks.
 */
const templateNames = (p: UserDataParams): Record<string, string> => {
  const names = projectNames(p.project);
  return {
    logsPrefix: names.logsPrefix,
    stateTag: TAG_STATE,
    binaryKey: names.pinnedBinaryKey(p.binarySha256),
    manifestKey: names.pinnedManifestKey(p.model, p.manifestSha256),
    weightsBytes: String(p.weightsBytes ?? 0),
  };
};

const PLACEHOLDER = /\{\{([A-Za-z0-9]+)\}\}/g;

export function renderUserData(template: string, params: UserDataParams): string {
  for (const [key, check] of Object.entries(CHECKS) as Array<[keyof typeof CHECKS, (v: string) => string | undefined]>) {
    const problem = check(params[key]);
    if (problem) throw new SynktiError(`user-data: ${key} '${params[key]}' ${problem}`, { code: "user-data-value", kind: "internal" });
  }
  if (params.weightsBytes !== undefined && !(Number.isSafeInteger(params.weightsBytes) && params.weightsBytes >= 0)) {
    throw new SynktiError(`user-data: weightsBytes '${params.weightsBytes}' is not a whole number of bytes`, { code: "user-data-value", kind: "internal" });
  }
  const values = { ...(params as unknown as Record<string, string>), ...templateNames(params) };
  const rendered = template.replace(PLACEHOLDER, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new SynktiError(`user-data template uses unknown placeholder {{${name}}}`, { code: "user-data-template", kind: "internal" });
    return value;
  });
  const size = Buffer.byteLength(rendered, "utf8");
  if (size > USER_DATA_LIMIT_BYTES) {
    throw new SynktiError(`user-data is ${size} bytes; EC2 accepts at most ${USER_DATA_LIMIT_BYTES}`, { code: "user-data-size", kind: "internal" });
  }
  return rendered;
}

/**
 * The template is bundled into the binary as text (esbuild import attribute). Development runs
 * (tsx) cannot import text, so they read scripts/ from the checkout the entry script lives in;
 * tests pass the file's content directly.
 */
export async function loadUserDataTemplate(): Promise<string> {
  try {
    return (await import("./user-data-template.js")).USER_DATA_TEMPLATE;
  } catch (error) {
    const { existsSync, readFileSync } = await import("node:fs");
    const path = await import("node:path");
    for (let dir = path.dirname(path.resolve(process.argv[1] ?? ".")), i = 0; i < 5; dir = path.dirname(dir), i++) {
      const candidate = path.join(dir, "scripts", "user-data.sh.tpl");
      if (existsSync(candidate)) return readFileSync(candidate, "utf8");
    }
    throw error;
  }
}
