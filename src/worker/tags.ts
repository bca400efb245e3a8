// Re-exported from the one place that names every tag.
export { TAG_ENDPOINT, workerSelector as memberSelector } from "../infra/names.js";
