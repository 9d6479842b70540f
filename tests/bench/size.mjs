// (a) Size report: what each SDK adds to a page, bundled the same way (see build.mjs).
import { SDKS, bundle, sum, usertrailMissing } from './build.mjs';
import { printUsertrailParts } from './parts.mjs';

const kb = (n) => n.toLocaleString('en-US');

/** Bundles every SDK into `outdir`, prints the table, returns the rows. */
export async function sizeReport(outdir) {
  const rows = [];
  for (const sdk of SDKS) {
    if (sdk.name === 'none') continue;
    if (sdk.name === 'usertrail' && usertrailMissing()) {
      rows.push({ sdk, missing: usertrailMissing() });
      continue;
    }
    const b = await bundle(sdk, outdir);
    rows.push({
      sdk,
      jsRaw: sum(b.initial, 'raw'),
      jsGz: sum(b.initial, 'gz'),
      wasmRaw: sum(b.wasm, 'raw'),
      wasmGz: sum(b.wasm, 'gz'),
      lazyRaw: sum(b.lazy, 'raw'),
      lazyGz: sum(b.lazy, 'gz'),
      lazyCount: b.lazy.length,
    });
  }
  console.log('\n(a) bundle size: esbuild --bundle --format=esm --minify --splitting, gzip -9, bytes\n');
  const head = ['SDK', 'JS raw', 'JS gz', 'wasm raw', 'wasm gz', 'total raw', 'total gz', 'lazy chunks gz'];
  const lines = [head];
  for (const r of rows) {
    if (r.missing) {
      lines.push([r.sdk.label, `not measured: ${r.missing}`]);
      continue;
    }
    lines.push([
      r.sdk.label,
      kb(r.jsRaw),
      kb(r.jsGz),
      r.wasmRaw ? kb(r.wasmRaw) : '-',
      r.wasmGz ? kb(r.wasmGz) : '-',
      kb(r.jsRaw + r.wasmRaw),
      kb(r.jsGz + r.wasmGz),
      r.lazyCount ? `${kb(r.lazyGz)} (${r.lazyCount} file${r.lazyCount > 1 ? 's' : ''})` : '-',
    ]);
  }
  printTable(lines);
  console.log('\n"JS" is what the page loads up front (entry + static chunks); "lazy" is loaded on demand by');
  console.log('the SDK itself (e.g. session replay), not counted in the totals. gz = sum of gzip -9 per file.');
  console.log("usertrail's WebAssembly module is inside its JavaScript, so its \"JS\" is everything.");
  await printUsertrailParts(printTable);
  return rows;
}

/** Prints rows as aligned columns; columns in `left` are left-aligned, the others right-aligned. */
export function printTable(lines, { left = [0] } = {}) {
  const widths = [];
  for (const l of lines) if (l.length > 2) l.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, String(c).length)));
  for (const l of lines) {
    if (l.length <= 2) {
      console.log(`${String(l[0]).padEnd(widths[0])}  ${l[1] ?? ''}`);
      continue;
    }
    console.log(
      l.map((c, i) => (left.includes(i) ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ').trimEnd(),
    );
  }
}
