import { usageError } from "../core/errors.js";

/** Where instance metadata lives on EC2 (IPv4), and its IPv6 twin on Nitro instances. */
export const DEFAULT_IMDS_ENDPOINT = "http://169.254.169.254";
export const IPV6_IMDS_ENDPOINT = "http://[fd00:ec2::254]";

export interface ImdsSettings {
  /** Base URL without a trailing slash, e.g. http://169.254.169.254. */
  endpoint: string;
  /** AWS_EC2_METADATA_DISABLED=true: never contact the metadata service. */
  disabled: boolean;
  /** Which setting chose the endpoint, so evidence can say why a test or a laptop used it. */
  source: "AWS_EC2_METADATA_SERVICE_ENDPOINT" | "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE" | "default";
}

/**
 * Reads the same variables the AWS SDK honours, so synkti and the SDK's credential provider always
 * talk to the same metadata service (tests point both at an emulator with one variable).
 */
export function imdsSettingsFromEnv(env: NodeJS.ProcessEnv): ImdsSettings {
  const disabled = (env.AWS_EC2_METADATA_DISABLED ?? "").trim().toLowerCase() === "true";
  const explicit = env.AWS_EC2_METADATA_SERVICE_ENDPOINT?.trim();
  if (explicit) {
    let url: URL;
    try {
      url = new URL(explicit);
    } catch {
      throw badEndpoint(explicit);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw badEndpoint(explicit);
    return { endpoint: explicit.replace(/\/+$/, ""), disabled, source: "AWS_EC2_METADATA_SERVICE_ENDPOINT" };
  }
  if ((env.AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE ?? "").trim().toLowerCase() === "ipv6") {
    return { endpoint: IPV6_IMDS_ENDPOINT, disabled, source: "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE" };
  }
  return { endpoint: DEFAULT_IMDS_ENDPOINT, disabled, source: "default" };
}

function badEndpoint(value: string) {
  return usageError(
    "invalid-imds-endpoint",
    `AWS_EC2_METADATA_SERVICE_ENDPOINT='${value}' is not an http(s) URL.`,
    "export AWS_EC2_METADATA_SERVICE_ENDPOINT=http://169.254.169.254   # or unset it",
  );
}
