// The public face of "where am I": role detection for the CLI, and the IMDS client the worker reuses.
export { detectContext, contextSettingsFromEnv, type ContextSettings, type DetectOptions } from "./detect.js";
export { decide } from "./decide.js";
export { observeContext, DETECTION_TIMEOUTS } from "./observe.js";
export { ImdsClient, type ImdsClientOptions, type ImdsCallOptions } from "./imds-client.js";
export { ImdsError, isImdsError, type ImdsFailure } from "./imds-error.js";
export { imdsSettingsFromEnv, DEFAULT_IMDS_ENDPOINT, type ImdsSettings } from "./imds-settings.js";
export { httpTransport, type ImdsTransport, type ImdsRequest, type ImdsResponse } from "./imds-transport.js";
export { parseIdentityDocument, IdentityDocumentSchema, IDENTITY_PATH, type IdentityDocument } from "./identity.js";
export { readDmi, interpretDmi, uuidSaysEc2, type DmiObservation } from "./dmi.js";
export type { ContextReport, Evidence, Observations, Role } from "./types.js";
