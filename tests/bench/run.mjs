// `npm run bench`: (a) bundle sizes of usertrail next to Datadog RUM, OpenTelemetry web and Sentry,
// (b) per-request cost of each in headless Chromium. Numbers are printed, never asserted.
//
//   node tests/bench/run.mjs [--size] [--requests] [--count N] [--warmup N] [--rounds N] [--only a,b] [--keep]
//
// With neither --size nor --requests both run. usertrail is measured from dist/: run
// scripts/build first. Bundles go to a temporary folder, removed unless --keep.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { requestBench } from './requests.mjs';
import { sizeReport } from './size.mjs';

const { values } = parseArgs({
  options: {
    size: { type: 'boolean', default: false },
    requests: { type: 'boolean', default: false },
    count: { type: 'string', default: '20000' },
    warmup: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
    keep: { type: 'boolean', default: false },
    // A comma-separated subset of the SDKs (names as in build.mjs, e.g. none,usertrail,datadog-rum).
    only: { type: 'string' },
  },
});
const both = !values.size && !values.requests;
const outdir = mkdtempSync(join(tmpdir(), 'usertrail-bench-'));
try {
  if (both || values.size) await sizeReport(join(outdir, 'size'));
  if (both || values.requests) {
    await requestBench(outdir, {
      requests: Number(values.count),
      warmup: Number(values.warmup),
      rounds: Number(values.rounds),
      only: values.only?.split(','),
    });
  }
} finally {
  if (values.keep) console.log(`\nbundles kept in ${outdir}`);
  else rmSync(outdir, { recursive: true, force: true });
}
