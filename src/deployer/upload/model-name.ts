// Moved to src/artifacts/model-name.ts; kept while src/cli/commands/launch.ts imports it from here.
export { validateModelName, modelNameProblem, MODEL_NAME_RULE } from "../../artifacts/model-name.js";
