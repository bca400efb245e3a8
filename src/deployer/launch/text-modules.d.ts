// esbuild imports `*.tpl` files as their text (import attribute `type: "text"`).
declare module "*.tpl" {
  const text: string;
  export default text;
}
