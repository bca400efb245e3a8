import { usageError } from "../../core/errors.js";

/**
 * The model server command is a template (`--model-server-command`, SYNKTI_MODEL_SERVER_COMMAND):
 *   vllm serve {model_dir} --served-model-name {model} --host {host} --port {port}
 * `--served-model-name {model}`: without it vLLM answers only to the model's folder path
 * (`/models/tiny`), and a client asking for `{"model":"tiny"}` gets 404.
 * It is split into argv here and run without a shell, so nothing in it (or in a filled value) is
 * ever interpreted: no globbing, no `$VAR`, no `;`. Quoting follows the POSIX shell's rules for
 * words only ('...' literal, "..." with \" and \\, a backslash escapes outside quotes), so a
 * template copied from a shell line splits the way the operator expects. Placeholders are filled
 * per word after splitting: a model folder with spaces stays one argument.
 */
export const DEFAULT_MODEL_SERVER_COMMAND = "vllm serve {model_dir} --served-model-name {model} --host {host} --port {port}";
export const PLACEHOLDERS = ["model_dir", "model", "host", "port"] as const;
export type TemplateValues = Record<(typeof PLACEHOLDERS)[number], string>;
/** What the agent knows; without a model name, {model} is the folder path (vLLM's own default name). */
export type TemplateInput = Omit<TemplateValues, "model"> & { model?: string | undefined };

/** Words a shell would treat as operators: without a shell they would reach vLLM as arguments. */
const SHELL_OPERATORS = new Set(["|", "||", "&", "&&", ";", ">", ">>", "<", "2>", "2>&1"]);

function templateError(template: string, problem: string) {
  return usageError(
    "invalid-model-server-command",
    `The model server command '${template}' ${problem}.`,
    `synkti --project-name <project> --model-server-command '${DEFAULT_MODEL_SERVER_COMMAND}'`,
  );
}

export function splitCommandTemplate(template: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === "\\" && (template[i + 1] === '"' || template[i + 1] === "\\")) word += template[++i];
      else word += c;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      inWord = true;
      if (c === "'" || c === '"') quote = c;
      else if (c === "\\") {
        if (i + 1 >= template.length) throw templateError(template, "ends with a lone backslash");
        word += template[++i];
      } else word += c;
    }
  }
  if (quote) throw templateError(template, `has an unterminated ${quote} quote`);
  if (inWord) words.push(word);
  if (words.length === 0) throw templateError(template, "is empty");
  const operator = words.find((w) => SHELL_OPERATORS.has(w));
  if (operator) throw templateError(template, `contains '${operator}', but it runs without a shell (wrap it in a script instead)`);
  return words;
}

/** Unknown `{name}` placeholders are typos (e.g. {model}); refuse them rather than pass them on. */
export function checkPlaceholders(template: string): void {
  for (const match of template.matchAll(/\{([a-z_]+)\}/g)) {
    const name = match[1]!;
    if (!(PLACEHOLDERS as readonly string[]).includes(name)) {
      throw templateError(template, `uses {${name}}; the placeholders are ${PLACEHOLDERS.map((p) => `{${p}}`).join(", ")}`);
    }
  }
}

export function fillCommandTemplate(words: readonly string[], values: TemplateValues): string[] {
  return words.map((w) => w.replace(/\{(model_dir|model|host|port)\}/g, (_, name: keyof TemplateValues) => values[name]));
}

/** Template -> argv, ready for spawn (argv[0] the executable). */
export function modelServerArgv(template: string, input: TemplateInput): string[] {
  checkPlaceholders(template);
  const values: TemplateValues = { ...input, model: input.model || input.model_dir };
  return fillCommandTemplate(splitCommandTemplate(template), values);
}
