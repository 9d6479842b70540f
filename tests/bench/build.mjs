// Bundles each SDK's entry (tests/bench/entries/) the same way: esbuild, ESM, minified, code
// splitting on so that chunks an SDK loads lazily (import()) are counted apart from what the
// page loads up front. usertrail comes from this repo's dist/ (run scripts/build first), its
// WebAssembly module inside its JavaScript.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../', import.meta.url));
const entries = fileURLToPath(new URL('./entries/', import.meta.url));

export const SDKS = [
  { name: 'none', label: 'no SDK (baseline)', entry: 'none.js' },
  { name: 'usertrail', label: 'usertrail', entry: 'usertrail.js' },
  { name: 'datadog-rum', label: '@datadog/browser-rum', entry: 'datadog-rum.js' },
  { name: 'datadog-rum-slim', label: '@datadog/browser-rum-slim', entry: 'datadog-rum-slim.js' },
  { name: 'opentelemetry', label: 'OpenTelemetry web', entry: 'opentelemetry.js' },
  { name: 'sentry', label: '@sentry/browser (tracing)', entry: 'sentry.js' },
];

/** Why usertrail cannot be measured yet, or null when dist/ has the API. */
export function usertrailMissing() {
  const index = join(root, 'dist/index.js');
  if (!existsSync(index)) return 'dist/index.js does not exist (run scripts/build)';
  if (!/^export \{[^}]*\binit\b/m.test(readFileSync(index, 'utf8'))) {
    return 'dist/index.js exports no init() yet (the SDK API has not landed in this build)';
  }
  return null;
}

/** gzip -9 size of a file, with the gzip binary (as scripts/build measures the wasm). */
export function gzipSize(file) {
  return execFileSync('gzip', ['-9c', file], { maxBuffer: 1 << 28 }).length;
}

/**
 * Bundles one SDK into `outdir/<name>/`. Resolves to
 * `{ dir, entryFile, initial: [files], lazy: [files], wasm: [files] }` with `{ file, raw, gz }`.
 */
export async function bundle(sdk, outdir) {
  const dir = join(outdir, sdk.name);
  mkdirSync(dir, { recursive: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: { [sdk.name]: join(entries, sdk.entry) },
    bundle: true,
    format: 'esm',
    splitting: true,
    minify: true,
    platform: 'browser',
    legalComments: 'none',
    define: { 'process.env.NODE_ENV': '"production"' },
    alias: { usertrail: join(root, 'dist/index.js') },
    outdir: dir,
    metafile: true,
    logLevel: 'silent',
  });
  const outputs = result.metafile.outputs;
  const entryKey = Object.keys(outputs).find((k) => outputs[k].entryPoint);
  // Up front: the entry and every chunk it reaches through static imports.
  const initial = new Set();
  const visit = (key) => {
    if (initial.has(key)) return;
    initial.add(key);
    for (const imp of outputs[key].imports) if (imp.kind === 'import-statement' && outputs[imp.path]) visit(imp.path);
  };
  visit(entryKey);
  const describe = (key) => {
    const file = join(root, key);
    return { file: relative(dir, file), raw: statSync(file).size, gz: gzipSize(file) };
  };
  const js = Object.keys(outputs).filter((k) => k.endsWith('.js'));
  // usertrail's WebAssembly module is inside its JavaScript (dist/index.js): no separate file.
  const wasm = [];
  return {
    dir,
    entryFile: relative(dir, join(root, entryKey)),
    initial: js.filter((k) => initial.has(k)).map(describe),
    lazy: js.filter((k) => !initial.has(k)).map(describe),
    wasm,
  };
}

export const sum = (files, key) => files.reduce((n, f) => n + f[key], 0);
