/**
 * The environment a local instance's user-data runs in. Pure, so what reaches an instance is
 * reviewable in one place and unit-tested.
 *
 * On EC2, cloud-init runs user-data as root with a near-empty environment; the instance finds
 * AWS through its own metadata service (credentials from the instance profile). The local cloud
 * reproduces that: nothing of the caller's environment passes except what makes programs run at
 * all (PATH so `aws`/`python3`/`sha256sum` are found, HOME and pyenv's variables for the `aws`
 * shim, locale), and only the variables the user-data contract allows are redirected:
 * - AWS_ENDPOINT_URL: moto, or a fault proxy in front of it (EC2 would use the real endpoints);
 * - AWS_EC2_METADATA_SERVICE_ENDPOINT: this instance's IMDS emulator (EC2: 169.254.169.254);
 * - SYNKTI_INSTALL_PREFIX / SYNKTI_MODELS_DIR: under the instance's folder (EC2: /usr/local/bin,
 *   /models).
 * Plus test-only knobs the worker reads (SYNKTI_MODEL_SERVER_COMMAND: the vLLM stand-in, since
 * there is no GPU), isolation (no ~/.aws files, so the caller's profile cannot leak in; a
 * per-instance TMPDIR; SYNKTI_SYSFS_ROOT at a fake DMI naming this instance, as on Nitro) and the
 * marker that lets the booter find every process of the instance. No AWS credentials: the worker
 * and the `aws` CLI get them from IMDS, as on EC2.
 */
import path from "node:path";
import { MARKER_VARIABLE } from "./processes.js";

/** Caller variables an instance inherits: only what programs need to start. */
export const INHERITED = ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "PYENV_ROOT", "PYENV_VERSION", "PYENV_SHELL"] as const;

export interface InstanceEnvInput {
  /** The caller's environment (process.env). */
  base: NodeJS.ProcessEnv;
  /** The instance's own folder. */
  dir: string;
  awsEndpoint: string;
  metadataEndpoint: string;
  marker: string;
  modelServerCommand: string;
  /** Extra variables for every instance (SYNKTI_STANDIN_*, SYNKTI_LOG_LEVEL, ...); they win. */
  extra?: Record<string, string>;
}

/** Sub-folders of an instance's folder, created before boot. */
export function instancePaths(dir: string) {
  return {
    userData: path.join(dir, "user-data"),
    /** Everything user-data and its processes print: the local /var/log/cloud-init-output.log. */
    log: path.join(dir, "boot.log"),
    prefix: path.join(dir, "usr-local-bin"),
    models: path.join(dir, "models"),
    tmp: path.join(dir, "tmp"),
    sysfs: path.join(dir, "sys"),
    awsConfig: path.join(dir, "no-aws-config"),
  };
}

export function instanceEnv(input: InstanceEnvInput): Record<string, string> {
  const paths = instancePaths(input.dir);
  const env: Record<string, string> = {};
  for (const key of INHERITED) {
    const value = input.base[key];
    if (value !== undefined) env[key] = value;
  }
  return {
    ...env,
    AWS_ENDPOINT_URL: input.awsEndpoint,
    AWS_EC2_METADATA_SERVICE_ENDPOINT: input.metadataEndpoint,
    SYNKTI_INSTALL_PREFIX: paths.prefix,
    SYNKTI_MODELS_DIR: paths.models,
    SYNKTI_MODEL_SERVER_COMMAND: input.modelServerCommand,
    SYNKTI_SYSFS_ROOT: paths.sysfs,
    // Files that do not exist: the caller's ~/.aws profiles and keys stay out of the instance.
    AWS_CONFIG_FILE: paths.awsConfig,
    AWS_SHARED_CREDENTIALS_FILE: paths.awsConfig,
    TMPDIR: paths.tmp,
    [MARKER_VARIABLE]: input.marker,
    ...input.extra,
  };
}
