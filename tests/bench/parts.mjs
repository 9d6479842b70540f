// Where usertrail's bytes go: the bench entry bundled as in size.mjs, but from the sources that
// scripts/build leaves in $CARGO_TARGET_DIR/usertrail-js, with a source map that says which
// module each byte of the minified bundle comes from. Each part's gzip figure is what it adds
// to the gzip of everything before it in the bundle, so the parts sum to the bundle's gzip size.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { root } from './build.mjs';

const sources = join(process.env.CARGO_TARGET_DIR ?? join(root, 'target'), 'usertrail-js');
const entry = join(root, 'tests/bench/entries/usertrail.js');

const VLQ = Object.fromEntries([...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].map((c, i) => [c, i]));

/** Decodes a source map's `mappings` into `[generatedLine, generatedColumn, sourceIndex]` rows. */
function decodeMappings(mappings) {
  const rows = [];
  let source = 0;
  mappings.split(';').forEach((line, generatedLine) => {
    let column = 0;
    for (const segment of line.split(',')) {
      if (!segment) continue;
      const fields = [];
      let value = 0;
      let shift = 0;
      for (const c of segment) {
        const digit = VLQ[c];
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          fields.push(value & 1 ? -(value >> 1) : value >> 1);
          value = 0;
          shift = 0;
        }
      }
      column += fields[0];
      if (fields.length > 1) source += fields[1];
      rows.push([generatedLine, column, fields.length > 1 ? source : -1]);
    }
  });
  return rows;
}

/** `[{ part, raw, gz }]` for usertrail's bench entry, or `null` when scripts/build has not run. */
export async function usertrailParts() {
  if (!existsSync(join(sources, 'index.js'))) return null;
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    minify: true,
    legalComments: 'none',
    alias: { usertrail: join(sources, 'index.js') },
    sourcemap: 'external',
    write: false,
    outdir: '/out',
    logLevel: 'silent',
  });
  const code = result.outputFiles.find((f) => f.path.endsWith('.js')).text;
  const map = JSON.parse(result.outputFiles.find((f) => f.path.endsWith('.map')).text);
  // The owner of each character: the source of the mapping segment it falls in.
  const lineStarts = [0];
  for (let i = 0; i < code.length; i++) if (code[i] === '\n') lineStarts.push(i + 1);
  const owner = new Array(code.length).fill('(esbuild)');
  const rows = decodeMappings(map.mappings).map(([l, c, s]) => [lineStarts[l] + c, s]);
  rows.forEach(([start, s], i) => {
    const end = i + 1 < rows.length ? rows[i + 1][0] : code.length;
    const name = s < 0 ? '(esbuild)' : basename(map.sources[s]);
    for (let j = start; j < end; j++) owner[j] = name;
  });
  // The module's bytes are one string inside usertrail_wasm.js: a part of their own.
  const text = /"[etnraosiculfdpgh]{1000,}"/.exec(code);
  if (text) for (let j = text.index; j < text.index + text[0].length; j++) owner[j] = 'the WebAssembly module';
  const parts = new Map();
  let gzBefore = 0;
  let runStart = 0;
  for (let i = 1; i <= code.length; i++) {
    if (i < code.length && owner[i] === owner[runStart]) continue;
    const gz = gzipSync(code.slice(0, i), { level: 9 }).length;
    const part = parts.get(owner[runStart]) ?? { raw: 0, gz: 0 };
    part.raw += i - runStart;
    part.gz += gz - gzBefore;
    parts.set(owner[runStart], part);
    gzBefore = gz;
    runStart = i;
  }
  return [...parts].map(([part, { raw, gz }]) => ({ part, raw, gz })).sort((a, b) => b.gz - a.gz);
}

const WHAT = {
  'the WebAssembly module': 'sdk-wasm/src + the propagator: the baggage header (two letters a byte)',
  'usertrail_wasm.js': "wasm-bindgen's glue",
  'options.js': 'init options, Datadog names and warnings',
  'patch.js': 'fetch and XMLHttpRequest interception',
  'session.js': 'the session (localStorage, expiry, sampling)',
  'core.js': 'starting the module, text in and out',
  'index.js': 'the exports, fail-open guard',
  'context.js': 'user and account objects',
  'trace.js': 'trace headers of a new trace: random ids, each format',
  'tracer.js': 'per-request decision, debug log',
  'match.js': 'allowedTracingUrls matchers',
  'url.js': 'request URLs made absolute (a shortcut past new URL)',
  'report.js': 'console output',
  'usertrail.js': 'the bench entry (init, setUser, setAccount)',
};

/** Prints the parts table; returns the parts. */
export async function printUsertrailParts(printTable) {
  const parts = await usertrailParts();
  if (!parts) {
    console.log('\nwhere usertrail\'s bytes go: not measured (run scripts/build first)');
    return null;
  }
  console.log("\nwhere usertrail's bytes go (the same bundle, by source; gzip: what each part adds to the gzip of what precedes it)\n");
  const lines = [['part', 'what', 'minified B', 'gzip B']];
  for (const p of parts) lines.push([p.part, WHAT[p.part] ?? '', p.raw.toLocaleString('en-US'), p.gz.toLocaleString('en-US')]);
  const total = parts.reduce((n, p) => n + p.gz, 0);
  lines.push(['total', '', parts.reduce((n, p) => n + p.raw, 0).toLocaleString('en-US'), total.toLocaleString('en-US')]);
  printTable(lines, { left: [0, 1] });
  return parts;
}
