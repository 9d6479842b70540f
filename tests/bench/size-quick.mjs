// The browser payload of the npm package as an app ships it: an entry that imports the
// package and calls init, setUser and setAccount, bundled with esbuild (--bundle --format=esm
// --minify), plus the .wasm it fetches. Sizes are gzip -9 of each file, summed (the bar:
// OpenTelemetry web's 19,541 B). Run after scripts/build: `node tests/bench/size-quick.mjs`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dist = join(root, 'dist');
const work = mkdtempSync(join(tmpdir(), 'usertrail-size-'));
try {
  const entry = join(work, 'entry.js');
  writeFileSync(
    entry,
    `import { init, setUser, setAccount } from ${JSON.stringify(join(dist, 'index.js'))};
init({ allowedTracingUrls: ['https://api.example.com'], propagateTraceBaggage: true });
setUser({ id: 'user_123', name: 'Ada' });
setAccount({ id: 'account_456' });
`,
  );
  const out = join(work, 'bundle.js');
  execFileSync(join(root, 'node_modules/.bin/esbuild'), [
    entry, '--bundle', '--format=esm', '--minify', `--outfile=${out}`, '--log-level=error',
  ]);
  // The gzip CLI, as scripts/build measures (zlib's level 9 differs by a few bytes).
  const gz = (buf) => execFileSync('gzip', ['-9c'], { input: buf }).length;
  const js = readFileSync(out);
  const glue = readFileSync(join(dist, 'usertrail_wasm.js'));
  const wasm = readFileSync(join(dist, 'usertrail_wasm_bg.wasm'));
  const rows = [
    ['wasm', wasm.length, gz(wasm)],
    ['glue usertrail_wasm.js (unminified)', glue.length, gz(glue)],
    ['bundle JS (esbuild --minify)', js.length, gz(js)],
  ];
  for (const [name, raw, z] of rows) {
    console.log(`${name.padEnd(38)} ${String(raw).padStart(7)} B raw ${String(z).padStart(7)} B gz`);
  }
  const total = gz(js) + gz(wasm);
  console.log(`${'bundle JS + wasm'.padEnd(38)} ${String(js.length + wasm.length).padStart(7)} B raw ${String(total).padStart(7)} B gz  (bar 19541, goal 12000)`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
