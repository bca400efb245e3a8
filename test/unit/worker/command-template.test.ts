import { describe, expect, it } from "vitest";
import { checkPlaceholders, DEFAULT_MODEL_SERVER_COMMAND, fillCommandTemplate, modelServerArgv, splitCommandTemplate } from "../../../src/worker/model-server/command-template.js";

describe("model server command template", () => {
  it.each([
    ["vllm serve {model_dir}", ["vllm", "serve", "{model_dir}"]],
    ["  vllm   serve\t{model_dir}  ", ["vllm", "serve", "{model_dir}"]],
    [`vllm serve '{model_dir}' --served-model-name "my model"`, ["vllm", "serve", "{model_dir}", "--served-model-name", "my model"]],
    [`a 'it''s' b`, ["a", "its", "b"]],
    [`echo "say \\"hi\\" \\\\ now"`, ["echo", 'say "hi" \\ now']],
    [`echo "a'b" 'c"d'`, ["echo", "a'b", 'c"d']],
    [`echo a\\ b`, ["echo", "a b"]],
    [`echo ''`, ["echo", ""]],
    ["echo $HOME *.bin", ["echo", "$HOME", "*.bin"]],
  ])("splits %s", (template, words) => {
    expect(splitCommandTemplate(template)).toEqual(words);
  });

  it.each([
    ["", /is empty/],
    ["   ", /is empty/],
    ["vllm 'serve", /unterminated ' quote/],
    ['vllm "serve', /unterminated " quote/],
    ["vllm serve \\", /lone backslash/],
    ["vllm serve {model_dir} | tee log", /contains '\|'.*without a shell/],
    ["vllm serve {model_dir} ; rm -rf /", /contains ';'/],
  ])("refuses %j", (template, problem) => {
    expect(() => splitCommandTemplate(template)).toThrow(problem);
  });

  it("fills placeholders inside words, after splitting, so values with spaces stay one argument", () => {
    const words = splitCommandTemplate("serve {model_dir} --bind={host}:{port} {port}");
    expect(fillCommandTemplate(words, { model_dir: "/models/my model", model: "my model", host: "127.0.0.5", port: "8000" })).toEqual([
      "serve",
      "/models/my model",
      "--bind=127.0.0.5:8000",
      "8000",
    ]);
  });

  it("never interprets a filled value (no second split, no expansion)", () => {
    expect(modelServerArgv("vllm serve {model_dir}", { model_dir: "/m/x; rm -rf / $(id)", host: "h", port: "1" })).toEqual(["vllm", "serve", "/m/x; rm -rf / $(id)"]);
  });

  it("the default is vLLM's own command line, serving the model under its name (not its folder path)", () => {
    expect(modelServerArgv(DEFAULT_MODEL_SERVER_COMMAND, { model_dir: "/models/Qwen/Qwen2.5-7B", model: "Qwen/Qwen2.5-7B", host: "172.31.5.6", port: "8000" })).toEqual([
      "vllm", "serve", "/models/Qwen/Qwen2.5-7B", "--served-model-name", "Qwen/Qwen2.5-7B", "--host", "172.31.5.6", "--port", "8000",
    ]);
  });

  it("{model} is the folder path when no model name is known (vLLM's own default name)", () => {
    expect(modelServerArgv("vllm serve {model_dir} --served-model-name {model}", { model_dir: "/models", host: "h", port: "1" })).toEqual(["vllm", "serve", "/models", "--served-model-name", "/models"]);
  });

  it("refuses unknown placeholders (typos) with the valid ones named", () => {
    expect(() => checkPlaceholders("vllm serve {modle}")).toThrow(/\{modle\}.*\{model_dir\}, \{model\}, \{host\}, \{port\}/);
    expect(() => checkPlaceholders("vllm serve {model_dir} --served-model-name {model} --host {host} --port {port}")).not.toThrow();
    // JSON in an argument is not a placeholder
    expect(() => checkPlaceholders(`vllm serve {model_dir} --override '{"a": 1}'`)).not.toThrow();
  });

  it("a usage error with the default as the remedy", () => {
    try {
      splitCommandTemplate("'");
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ kind: "usage", code: "invalid-model-server-command" });
      expect((error as { remedy: string }).remedy).toContain("--model-server-command 'vllm serve {model_dir}");
    }
  });
});
