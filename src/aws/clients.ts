import type { EC2Client } from "@aws-sdk/client-ec2";
import type { IAMClient } from "@aws-sdk/client-iam";
import type { S3Client } from "@aws-sdk/client-s3";
import type { STSClient } from "@aws-sdk/client-sts";
import type { ServiceQuotasClient } from "@aws-sdk/client-service-quotas";
import type { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { SSMClient } from "@aws-sdk/client-ssm";
import type { AwsCredentialIdentityProvider } from "@aws-sdk/types";
import type { CallerIdentity } from "./identity.js";
import type { NodeHttpHandler } from "@smithy/node-http-handler";
import type { InitializeMiddleware } from "@smithy/types";
import { annotateCall, awsDeadlinesFromEnv, callFacts, type AwsDeadlines } from "./deadlines.js";

/**
 * The one place that builds SDK clients. Clients are loaded lazily (dynamic import) so commands
 * that never talk to AWS, like --help and version, start as fast as bare Node.
 */
export interface AwsSettings {
  /** Explicit region (flag); otherwise the SDK's own resolution (AWS_REGION, profile). */
  region?: string;
  /** Who is calling: a deployer never consults IMDS for credentials, a worker does. */
  role: "deployer" | "worker";
  /** Connect, answer and idle deadlines of every request; default: from SYNKTI_AWS_TIMEOUT_MS (validated). */
  deadlines?: AwsDeadlines;
  maxAttempts?: number;
}

export interface AwsClients {
  readonly region: string | undefined;
  /** What every call of these clients waits at most (deadlines.ts). */
  readonly deadlines: AwsDeadlines;
  ec2(): Promise<EC2Client>;
  s3(): Promise<S3Client>;
  /**
   * S3 for uploads of large bodies (multipart parts, large PUTs): the same client, except that no answer deadline
   * cuts a long part short; the idle deadline still ends a transfer that stopped moving.
   */
  s3Transfer(): Promise<S3Client>;
  /**
   * S3 for large bodies read once (the weights fetch's ranged GETs): the same client, with a lean
   * HTTP handler that reads into one reused buffer per connection (lean-http-handler.ts).
   */
  s3Ranges(): Promise<S3Client>;
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
 * so a laptop never waits on 169.254.169.254 once it knows it is not a worker. The providers that
 * call AWS themselves (SSO, an assumed role, web identity) get the same deadline-bound handler as
 * every other call, so a silent endpoint cannot hang the credentials either. When no source
 * works, the error says which ones were set up and why each failed (credentials.ts).
 */
async function deployerCredentials(requestHandler: NodeHttpHandler): Promise<AwsCredentialIdentityProvider> {
  const [{ fromEnv, fromSSO, fromIni, fromProcess, fromTokenFile, fromContainerMetadata }, { explainedCredentialChain, environmentKeyProblem }] = await Promise.all([
    import("@aws-sdk/credential-providers"),
    import("./credentials.js"),
  ]);
  const env = process.env;
  const hasContainerEndpoint = env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI !== undefined || env.AWS_CONTAINER_CREDENTIALS_FULL_URI !== undefined;
  const clientConfig = { requestHandler };
  const profile = `profile '${env.AWS_PROFILE?.trim() || "default"}'${env.AWS_CONFIG_FILE ? ` of ${env.AWS_CONFIG_FILE}` : ""}`;
  return explainedCredentialChain(
    [
      { name: "environment variables (AWS_ACCESS_KEY_ID...)", provider: fromEnv(), precheck: () => environmentKeyProblem(env) },
      { name: `${profile} (SSO)`, provider: fromSSO({ clientConfig }), group: profile },
      { name: profile, provider: fromIni({ clientConfig }), group: profile },
      { name: `${profile} (credential_process)`, provider: fromProcess(), group: profile },
      { name: "web identity token file (AWS_WEB_IDENTITY_TOKEN_FILE)", provider: fromTokenFile({ clientConfig }) },
      ...(hasContainerEndpoint ? [{ name: "container credentials endpoint", provider: fromContainerMetadata({ timeout: 1000, maxRetries: 0 }) }] : []),
    ],
    { profileNamed: Boolean(env.AWS_PROFILE?.trim()) },
  );
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
  const deadlines = settings.deadlines ?? awsDeadlinesFromEnv();
  const maxAttempts = settings.maxAttempts ?? 3;

  // A failed attempt is forgotten, so a transient error (a throttled STS call) is not cached for good.
  const memo = <T>(make: () => Promise<T>) => {
    let value: Promise<T> | undefined;
    return () =>
      (value ??= make().catch((error: unknown) => {
        value = undefined;
        throw error;
      }));
  };
  // One handler (one connection pool) for all calls, one without the answer deadline for transfers.
  const calls = memo(async () => (await import("./http-handler.js")).createHttpHandler(deadlines, { answerDeadline: true }));
  const transfers = memo(async () => (await import("./http-handler.js")).createHttpHandler(deadlines, { answerDeadline: false }));
  const ranges = memo(async () => (await import("./lean-http-handler.js")).createLeanHttpHandler(deadlines));
  const credentials = memo(async () => (settings.role === "deployer" ? deployerCredentials(await calls()) : undefined));

  /** What every client shares: region, credentials, deadline-bound handler, retry rules, call names. */
  const configure = async (options: { capacity?: boolean; handler?: "calls" | "transfer" | "ranges" } = {}) => {
    const [{ StandardRetryStrategy }, { withoutFutileRetries }, requestHandler, provider] = await Promise.all([
      import("@smithy/core/retry"),
      import("./retry.js"),
      options.handler === "transfer" ? transfers() : options.handler === "ranges" ? ranges() : calls(),
      credentials(),
    ]);
    return {
      ...(region ? { region } : {}),
      ...(provider ? { credentials: provider } : {}),
      maxAttempts,
      requestHandler,
      retryStrategy: withoutFutileRetries(new StandardRetryStrategy(maxAttempts), { capacity: options.capacity ?? false }),
    };
  };
  const named = <C extends { middlewareStack: MiddlewareStackLike }>(client: C): C => {
    client.middlewareStack.add(nameFailedCalls, { step: "initialize", name: "synktiNameFailedCalls", priority: "high" });
    return client;
  };

  // moto (and any S3-compatible endpoint) needs path-style addressing; AWS accepts it too.
  const s3Client = async (handler: "calls" | "transfer" | "ranges") => {
    const transfer = handler === "transfer";
    const [{ S3Client }, { expectOwnAccount }, { reuseChecksumAsPayloadHash }, config] = await Promise.all([
      import("@aws-sdk/client-s3"),
      import("./bucket-owner.js"),
      import("./payload-hash.js"),
      configure({ handler }),
    ]);
    const forcePathStyle = process.env.AWS_ENDPOINT_URL !== undefined || process.env.AWS_ENDPOINT_URL_S3 !== undefined;
    // Uploads go to the project's own bucket: no "Expect: 100-continue" round trip before each body.
    const s3 = new S3Client({ ...config, forcePathStyle, ...(transfer ? { expectContinueHeader: false } : {}) });
    return expectOwnAccount(named(reuseChecksumAsPayloadHash(s3)), () => clients.accountId());
  };

  const clients: AwsClients = {
    region,
    deadlines,
    ec2: memo(async () => named(new (await import("@aws-sdk/client-ec2")).EC2Client(await configure({ capacity: true })))),
    iam: memo(async () => named(new (await import("@aws-sdk/client-iam")).IAMClient(await configure()))),
    sts: memo(async () => named(new (await import("@aws-sdk/client-sts")).STSClient(await configure()))),
    serviceQuotas: memo(async () => named(new (await import("@aws-sdk/client-service-quotas")).ServiceQuotasClient(await configure()))),
    elbv2: memo(async () => named(new (await import("@aws-sdk/client-elastic-load-balancing-v2")).ElasticLoadBalancingV2Client(await configure()))),
    ssm: memo(async () => named(new (await import("@aws-sdk/client-ssm")).SSMClient(await configure()))),
    s3: memo(() => s3Client("calls")),
    s3Transfer: memo(() => s3Client("transfer")),
    s3Ranges: memo(() => s3Client("ranges")),
    identity: memo(async () => (await import("./identity.js")).callerIdentity(clients)),
    accountId: async () => (await clients.identity()).account,
  };
  return clients;
}

interface MiddlewareStackLike {
  add(middleware: InitializeMiddleware<any, any>, options: { step: "initialize"; name: string; priority: "high" }): void;
}

/**
 * Outermost: a call that failed without AWS's answer (no deadline met, connection refused) is
 * named in its error ("ec2 DescribeInstances"), after the retries, so the message says which call.
 */
const nameFailedCalls: InitializeMiddleware<any, any> = (next, context) => async (args) => {
  try {
    return await next(args);
  } catch (error) {
    if (error instanceof Error && callFacts(error).endpoint) {
      const service = String(context.clientName ?? "").replace(/Client$/, "").toLowerCase();
      const operation = String(context.commandName ?? "").replace(/Command$/, "");
      annotateCall(error, { operation: `${service} ${operation}`.trim() });
    }
    throw error;
  }
};
