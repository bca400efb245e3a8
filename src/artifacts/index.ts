/**
 * The project's artifacts (the binary, the model weights and their manifest): hashing, the
 * manifest's format, model names, and the verifiers that say whether they are in S3 intact. Shared
 * by the deployer's uploads and preflight (deployer and worker), which must judge them alike.
 */
export { transferFor, METADATA_SHA256, METADATA_VERSION, type ArtifactDeps } from "./deps.js";
export { verifyBinaryInS3, type BinaryVerification, type VerifyBinaryOptions } from "./verify-binary.js";
export { verifyModelInS3, type ModelVerification } from "./verify-model.js";
export { validateModelName, modelNameProblem, MODEL_NAME_RULE } from "./model-name.js";
export { checkPinnedObject, type PinnedCheck } from "./pinned.js";
