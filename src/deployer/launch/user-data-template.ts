// The bash template as text, inlined by esbuild at build time (import attribute type "text").
// Only the built binary loads this module; vitest reads scripts/user-data.sh.tpl from disk instead.
import template from "../../../scripts/user-data.sh.tpl" with { type: "text" };

export const USER_DATA_TEMPLATE: string = template;
