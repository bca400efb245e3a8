import { describe, expect, it } from "vitest";
import { modelNameProblem, validateModelName } from "../../../src/artifacts/model-name.js";

describe("model names", () => {
  it.each(["qwen-7b", "Qwen/Qwen2.5-7B-Instruct", "meta-llama/Llama-3.1-8B", "a", "x_y.z", "org/v1.0"])("accepts %s", (name) => {
    expect(modelNameProblem(name)).toBeUndefined();
  });

  it.each([
    ["", /empty/],
    ["/abs/path", /absolute/],
    ["a/b/c", /more than one/],
    ["../escape", /'\.\.' part/],
    ["org/..", /'\.\.' part/],
    ["./x", /'\.' part/],
    ["org/", /empty part/],
    ["has space", /character outside/],
    ["uni\u00e9", /character outside/],
    ["back\\slash", /character outside/],
    ["bin", /reserves/],
    ["checkpoints/x", /reserves/],
    ["x".repeat(129), /129 characters/],
  ])("refuses %j", (name, problem) => {
    expect(modelNameProblem(name)).toMatch(problem);
  });

  it("throws a usage error (exit 2) carrying the rule and the caller's remedy", () => {
    expect(() => validateModelName("../x", "synkti upload model --project-name p1 --model <model> --from w")).toThrow(
      expect.objectContaining({ kind: "usage", code: "invalid-model-name", remedy: expect.stringContaining("--project-name p1") }),
    );
  });
});
