import { awsErrorName } from "./errors.js";

/**
 * Runs an AWS read whose "not there" answer is an error (NoSuchBucketPolicy, NoSuchEntity, ...) and
 * turns exactly those names into `undefined`; every other failure propagates unchanged.
 */
export async function orAbsent<T>(absentNames: readonly string[], read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (absentNames.includes(awsErrorName(error))) return undefined;
    throw error;
  }
}
