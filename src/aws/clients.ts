import type { EC2Client } from "@aws-sdk/client-ec2";
import type { IAMClient } from "@aws-sdk/client-iam";
import type { S3Client } from "@aws-sdk/client-s3";
import type { STSClient } from "@aws-sdk/client-sts";
import type { ServiceQuotasClient } from "@aws-sdk/client-service-quotas";
import type { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { SSMClient } from "@aws-sdk/client-ssm";
import type { AwsCredentialIdentityProvider } from "@aws-sdk/types";
import type { CallerIdentity } from "./identity.js";

/**
 * The one place that builds SDK clients. Clients are loaded lazily (dynamic import) so commands
 * that never talk to AWS, like --help and version, start as fast as bare Node.
 */
export interface AwsSettings {
  /** Explicit region (flag); otherwise the SDK's own resolution (AWS_REGION, profile). */
  region?: string;
  /** Who is calling: a deployer never consults IMDS for credentials, a worker does. */
  role: "deployer" | "worker";
  /** Abort hung calls instead of waiting on the SDK's defaults. */
  requestTimeoutMs?: number;
  maxAttempts?: number;
}

export interface AwsClients {
  readonly region: string | undefined;
  ec2(): Promise<EC2Client>;
  s3(): Promise<S3Client>;
  iam(): Promise<IAMClient>;
  sts(): Promise<STSClient>;
  serviceQuotas(): Promise<ServiceQuotasClient>;
  elbv2(): Promise<ElasticLoadBalancingV2Client>;
  ssm(): Promise<SSMClient>;
  /** Who the credentials belong to (STS GetCallerIdentity, asked once per process). */
  identity(): Promise<CallerIdentity>;
  /** The caller's account: the owner every S3 request expects. */
  accountId(): Promise<string>;
}

/**
 * True when S3 is reached over plain HTTP, which only an emulator offers (AWS's endpoints are
 * HTTPS): aws:SecureTransport is then false for every request synkti makes.
 */
export function s3EndpointIsPlainHttp(env: NodeJS.ProcessEnv = process.env): boolean {
  const endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  return endpoint !== undefined && endpoint.toLowerCase().startsWith("http://");
}

export function resolveRegion(explicit?: string): string | undefined {
  return explicit ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? undefined;
}

/**
 * A deployer's credential chain: the SDK's default chain minus the EC2 instance metadata provider,
 * so a laptop never waits on 169.254.169.254 once it knows it is not a worker.
 */
async function deployerCredentials(): Promise<AwsCredentialIdentityProvider> {
  const { createCredentialChain, fromEnv, fromSSO, fromIni, fromProcess, fromTokenFile, fromContainerMetadata } =
    await import("@aws-sdk/credential-providers");
  const hasContainerEndpoint =
    process.env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI !== undefined ||
    process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI !== undefined;
  const providers: AwsCredentialIdentityProvider[] = [fromEnv(), fromSSO(), fromIni(), fromProcess(), fromTokenFile()];
  if (hasContainerEndpoint) providers.push(fromContainerMetadata({ timeout: 1000, maxRetries: 0 }));
  return createCredentialChain(...providers).expireAfter(15 * 60_000);
}

/** The flag or AWS_REGION, else what the SDK resolves (e.g. the profile's region); undefined if none. */
export async function effectiveRegion(clients: AwsClients): Promise<string | undefined> {
  if (clients.region) return clients.region;
  try {
    return (await (await clients.ec2()).config.region()) || undefined;
  } catch {
    return undefined; // no region anywhere: callers say so with their own remedy
  }
}

export function createAwsClients(settings: AwsSettings): AwsClients {
  const region = resolveRegion(settings.region);
  let credentials: Promise<AwsCredentialIdentityProvider | undefined> | undefined;
  const credentialProvider = () =>
    (credentials ??= settings.role === "deployer" ? deployerCredentials() : Promise.resolve(undefined));

  const common = async () => {
    const { NodeHttpHandler } = await import("@smithy/node-http-handler");
    const provider = await credentialProvider();
    return {
      ...(region ? { region } : {}),
      ...(provider ? { credentials: provider } : {}),
      maxAttempts: settings.maxAttempts ?? 3,
      requestHandler: new NodeHttpHandler({
        connectionTimeout: 3000,
        requestTimeout: settings.requestTimeoutMs ?? 30_000,
      }),
    };
  };

  // A failed attempt is forgotten, so a transient error (a throttled STS call) is not cached for good.
  const memo = <T>(make: () => Promise<T>) => {
    let value: Promise<T> | undefined;
    return () =>
      (value ??= make().catch((error: unknown) => {
        value = undefined;
        throw error;
      }));
  };

  const clients: AwsClients = {
    region,
    ec2: memo(async () => {
      const [{ EC2Client }, { StandardRetryStrategy }, { withoutCapacityRetries }, config] = await Promise.all([
        import("@aws-sdk/client-ec2"),
        import("@smithy/core/retry"),
        import("./retry.js"),
        common(),
      ]);
      return new EC2Client({ ...config, retryStrategy: withoutCapacityRetries(new StandardRetryStrategy(config.maxAttempts)) });
    }),
    iam: memo(async () => new (await import("@aws-sdk/client-iam")).IAMClient(await common())),
    sts: memo(async () => new (await import("@aws-sdk/client-sts")).STSClient(await common())),
    serviceQuotas: memo(
      async () => new (await import("@aws-sdk/client-service-quotas")).ServiceQuotasClient(await common()),
    ),
    elbv2: memo(
      async () => new (await import("@aws-sdk/client-elastic-load-balancing-v2")).ElasticLoadBalancingV2Client(await common()),
    ),
    ssm: memo(async () => new (await import("@aws-sdk/client-ssm")).SSMClient(await common())),
    // moto (and any S3-compatible endpoint) needs path-style addressing; AWS accepts it too.
    s3: memo(async () => {
      const [{ S3Client }, { expectOwnAccount }, config] = await Promise.all([import("@aws-sdk/client-s3"), import("./bucket-owner.js"), common()]);
      const forcePathStyle = process.env.AWS_ENDPOINT_URL !== undefined || process.env.AWS_ENDPOINT_URL_S3 !== undefined;
      return expectOwnAccount(new S3Client({ ...config, forcePathStyle }), () => clients.accountId());
    }),
    identity: memo(async () => (await import("./identity.js")).callerIdentity(clients)),
    accountId: async () => (await clients.identity()).account,
  };
  return clients;
}
