// Replaced at bundle time by scripts/build.mjs (esbuild `define`); the fallbacks serve `tsx` runs.
declare const __SYNKTI_BUILD_MARKER__: string | undefined;
declare const __SYNKTI_COMMIT__: string | undefined;

export interface VersionInfo {
  version: string;
  node: string;
  commit: string;
}

/**
 * The build's version marker: `[[synkti-build-version:1.2.3]]`, a string literal the build puts in
 * the bundle (and so, verbatim, in dist/synkti). `synkti upload binary` reads a build's version by
 * scanning its bytes for it, never by running the file. This very prefix also sits in the bundle,
 * but followed by a quote, not by a version and `]]`, so a scan finds only the real marker.
 */
export const VERSION_MARKER_PREFIX = "[[synkti-build-version:";
export const VERSION_MARKER_SUFFIX = "]]";
/** A version as the build writes it (package.json's): 1.2.3, 1.2.3-rc.1, 1.2.3+build. */
export const SEMVER = /^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$/;
/** The longest version a marker may carry: a scan reads at most this far after the prefix. */
export const MAX_MARKER_VERSION_LENGTH = 64;

export function versionMarker(version: string): string {
  return `${VERSION_MARKER_PREFIX}${version}${VERSION_MARKER_SUFFIX}`;
}

/** The version inside a whole marker, or undefined when it is not one. */
export function versionOfMarker(marker: string): string | undefined {
  if (!marker.startsWith(VERSION_MARKER_PREFIX) || !marker.endsWith(VERSION_MARKER_SUFFIX)) return undefined;
  const version = marker.slice(VERSION_MARKER_PREFIX.length, -VERSION_MARKER_SUFFIX.length);
  return version.length <= MAX_MARKER_VERSION_LENGTH && SEMVER.test(version) ? version : undefined;
}

export function versionInfo(): VersionInfo {
  const marker = typeof __SYNKTI_BUILD_MARKER__ === "string" ? __SYNKTI_BUILD_MARKER__ : undefined;
  return {
    version: (marker !== undefined ? versionOfMarker(marker) : undefined) ?? "0.0.0-dev",
    node: process.version,
    commit: typeof __SYNKTI_COMMIT__ === "string" ? __SYNKTI_COMMIT__ : "unknown",
  };
}
