/**
 * The worker's own weights fetch (the pinned manifest's files, ranged GETs in parallel, verified
 * per chunk, resumable): what user-data did with the aws CLI before, now done by the verified binary.
 */
export { fetchWeights, DEFAULT_FETCH_CONCURRENCY, DEFAULT_MAX_GET_BYTES, type WeightsFetchDeps, type WeightsFetchInput, type WeightsFetchResult } from "./fetch-weights.js";
export { LOCAL_MANIFEST } from "./targets.js";
export { fetchWorkerWeights, wantsFetch, asSynktiError, type WorkerFetchOptions } from "./worker-fetch.js";
