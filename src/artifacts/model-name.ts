import { usageError } from "../core/errors.js";

/**
 * A model name becomes the S3 prefix `<model>/` in the project bucket and a folder on every
 * worker, so it must be safe as both. Hugging Face ids (`org/name`) are what operators type, so
 * one `/` is allowed; everything else is letters, digits and `._-`. Names that would escape or
 * collide with synkti's own prefixes (`bin/`, `checkpoints/`) are refused.
 */
export const MODEL_NAME_RULE =
  "1-128 characters: letters, digits, '.', '_', '-', and at most one '/' between two non-empty parts (like an org/name Hugging Face id)";

const SEGMENT = /^[A-Za-z0-9._-]+$/;
const RESERVED_FIRST_SEGMENTS = new Set(["bin", "checkpoints"]);

export function modelNameProblem(model: string): string | undefined {
  if (model.length === 0) return "is empty";
  if (model.length > 128) return `is ${model.length} characters long`;
  if (model.startsWith("/")) return "is an absolute path";
  const segments = model.split("/");
  if (segments.length > 2) return "has more than one '/'";
  for (const segment of segments) {
    if (segment === "") return "has an empty part around '/'";
    if (segment === "." || segment === "..") return `has a '${segment}' part`;
    if (!SEGMENT.test(segment)) return `has a character outside letters, digits and '._-' in '${segment}'`;
  }
  const first = segments[0] ?? "";
  if (RESERVED_FIRST_SEGMENTS.has(first.toLowerCase())) return `starts with '${first}', which synkti reserves in the bucket`;
  return undefined;
}

/** `remedy` lets a caller that knows the project print the operator's own command line. */
export function validateModelName(model: string, remedy?: string): string {
  const problem = modelNameProblem(model);
  if (problem) {
    throw usageError(
      "invalid-model-name",
      `Invalid model name '${model}': it ${problem}; it must be ${MODEL_NAME_RULE}.`,
      remedy ?? "synkti upload model --project-name <project> --model Qwen/Qwen2.5-7B-Instruct --from <weights-dir>",
    );
  }
  return model;
}
