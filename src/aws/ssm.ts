/**
 * The narrow SSM Parameter Store calls for the project's API key. Observing never reads the value
 * (DescribeParameters returns metadata only), so `infra status` and preflight never hold the key.
 */
import type { AwsClients } from "./clients.js";
import { opts } from "./shapes.js";

export interface ParameterInfo {
  name: string;
  /** "String", "StringList" or "SecureString". */
  type: string;
  /** The KMS key of a SecureString (alias/aws/ssm when AWS's managed key). */
  keyId?: string;
}

const sdk = () => import("@aws-sdk/client-ssm");

export async function describeParameter(clients: AwsClients, name: string, signal?: AbortSignal): Promise<ParameterInfo | undefined> {
  const [{ DescribeParametersCommand }, ssm] = await Promise.all([sdk(), clients.ssm()]);
  const out = await ssm.send(
    new DescribeParametersCommand({ ParameterFilters: [{ Key: "Name", Option: "Equals", Values: [name] }] }),
    opts(signal),
  );
  const found = out.Parameters?.find((p) => p.Name === name);
  if (!found) return undefined;
  return { name, type: found.Type ?? "", ...(found.KeyId ? { keyId: found.KeyId } : {}) };
}

/**
 * Creates a SecureString once: Overwrite false, so a concurrent or repeated run can never replace
 * (rotate) a key workers already use. Encrypted with the account's AWS-managed key (aws/ssm).
 * Answers false when the parameter already existed.
 */
export async function createSecureString(
  clients: AwsClients,
  spec: { name: string; value: string; description: string; tags: Record<string, string> },
): Promise<boolean> {
  const [{ PutParameterCommand }, ssm] = await Promise.all([sdk(), clients.ssm()]);
  try {
    await ssm.send(
      new PutParameterCommand({
        Name: spec.name,
        Value: spec.value,
        Type: "SecureString",
        Overwrite: false,
        Description: spec.description,
        Tags: Object.entries(spec.tags).map(([Key, Value]) => ({ Key, Value })),
      }),
    );
    return true;
  } catch (error) {
    if ((error as { name?: string }).name === "ParameterAlreadyExists") return false;
    throw error;
  }
}

/** The decrypted value; only `synkti endpoint --show-key` and the worker read it. */
export async function getSecureString(clients: AwsClients, name: string, signal?: AbortSignal): Promise<string | undefined> {
  const [{ GetParameterCommand }, ssm] = await Promise.all([sdk(), clients.ssm()]);
  try {
    const out = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }), opts(signal));
    return out.Parameter?.Value;
  } catch (error) {
    if ((error as { name?: string }).name === "ParameterNotFound") return undefined;
    throw error;
  }
}

export async function deleteParameter(clients: AwsClients, name: string): Promise<void> {
  const [{ DeleteParameterCommand }, ssm] = await Promise.all([sdk(), clients.ssm()]);
  await ssm.send(new DeleteParameterCommand({ Name: name }));
}
