// Links wasm-bindgen's glue (`--target bundler`) to a module whose import and export names
// wasm-opt shortened (`--minify-imports-and-exports`, which prints the renaming as JSON).
//
// Why: wasm-bindgen names every import like `__wbg_getItem_1165cd3e14148906`. Those names sit
// once in the .wasm and once in the JavaScript, and their hashes do not compress: shortening
// them saves more than a kilobyte of gzip, downloaded by every visitor of the host app.
//
//   node scripts/link-glue.mjs GLUE.js NAMES.json MODULE.wasm > usertrail_wasm.js
//
// MODULE.wasm is wasm-opt's output, read for the module names it gave the imports (its JSON
// lists only the import names).
//
// The output is the glue with `wasm.<export>` uses renamed, plus two exports for sdk-wasm/js/index.js:
// `imports` (the object to instantiate the module with) and `start(instance)`. Anything it does not
// recognise stops the build rather than producing a package that fails in the browser.
import { readFileSync } from 'node:fs';

const [gluePath, namesPath, wasmPath] = process.argv.slice(2);
if (!gluePath || !namesPath || !wasmPath) {
  console.error('usage: node scripts/link-glue.mjs GLUE.js NAMES.json MODULE.wasm');
  process.exit(2);
}
const fail = (message) => {
  console.error(`link-glue: ${message}`);
  process.exit(1);
};

let glue = readFileSync(gluePath, 'utf8');
const names = JSON.parse(readFileSync(namesPath, 'utf8'));
const exportNames = new Map(names.exports.map(([name, short]) => [name, short]));

const wanted = WebAssembly.Module.imports(new WebAssembly.Module(readFileSync(wasmPath)));
const moduleOf = new Map(wanted.map(({ module, name }) => [name, module]));
if (moduleOf.size !== wanted.length || names.imports.length !== wanted.length) {
  fail(`the renaming covers ${names.imports.length} of the module's ${wanted.length} imports`);
}
const imports = new Map();
for (const [, name, short] of names.imports) {
  if (!new RegExp(`^export function ${name}\\(`, 'm').test(glue)) {
    fail(`the wasm imports ${name}, which the glue does not export`);
  }
  const module = moduleOf.get(short);
  if (module === undefined) fail(`wasm-opt renamed ${name} to ${short}, which the module does not import`);
  if (!imports.has(module)) imports.set(module, []);
  imports.get(module).push(`${JSON.stringify(short)}: ${name}`);
}
if (!/^export function __wbg_set_wasm\(/m.test(glue)) fail('the glue has no __wbg_set_wasm');

glue += `
// Added by scripts/link-glue.mjs, for index.js.
/** The imports object to instantiate usertrail_wasm_bg.wasm with. */
export const imports = {
${[...imports].map(([module, fns]) => `  ${JSON.stringify(module)}: { ${fns.join(', ')} },`).join('\n')}
};
/** Hands an instance of usertrail_wasm_bg.wasm to this glue and runs its start function. */
export function start(instance) {
  __wbg_set_wasm(instance.exports);
  ${exportNames.has('__wbindgen_start') ? 'wasm.__wbindgen_start();' : ''}
}
`;
glue = glue.replace(/\bwasm\.([A-Za-z_$][\w$]*)/g, (_, name) => {
  const short = exportNames.get(name);
  if (short === undefined) fail(`the glue uses wasm.${name}, which the wasm does not export`);
  return `wasm.${short}`;
});
process.stdout.write(glue);
