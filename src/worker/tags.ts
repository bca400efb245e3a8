import { ROLE_WORKER, TAG_CLUSTER, TAG_ROLE } from "../infra/names.js";

/**
 * Where peers reach a worker: `<local-ipv4>:<status port>`, published by the worker on its own
 * instance. The same name as src/deployer/fleet/tags.ts (which `synkti status` reads); it belongs in
 * src/infra/names.ts next to the other tags, so both can import one constant.
 */
export const TAG_ENDPOINT = "SynktiEndpoint";

/** Membership is tags (DESIGN: no control plane): the whole "cluster model" is this filter. */
export const memberSelector = (project: string) => ({ [TAG_CLUSTER]: project, [TAG_ROLE]: ROLE_WORKER });
