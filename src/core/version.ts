// Replaced at bundle time by scripts/build.mjs (esbuild `define`); the fallbacks serve `tsx` runs.
declare const __SYNKTI_VERSION__: string | undefined;
declare const __SYNKTI_COMMIT__: string | undefined;

export interface VersionInfo {
  version: string;
  node: string;
  commit: string;
}

export function versionInfo(): VersionInfo {
  return {
    version: typeof __SYNKTI_VERSION__ === "string" ? __SYNKTI_VERSION__ : "0.0.0-dev",
    node: process.version,
    commit: typeof __SYNKTI_COMMIT__ === "string" ? __SYNKTI_COMMIT__ : "unknown",
  };
}
