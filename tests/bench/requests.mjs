// (b) Per-request cost in headless Chromium: N awaited fetch POSTs through each SDK, each SDK
// in a fresh page (fresh browser context), measured after it has initialized and warmed up.
//
// The network underneath is stubbed: before any SDK loads, a classic script replaces
// window.fetch with a function that resolves at once with a small 200 response. Each SDK then
// wraps that stub exactly as it wraps the browser's fetch, so it does all of its own work:
// matching the URL against allowedTracingUrls (the URL matches for every SDK), ids, headers,
// baggage, and for Datadog and OpenTelemetry the resource event / span and reading the response.
// The stub copies the headers of the first request it sees, which the report prints to show
// each SDK really injected. Nothing leaves the machine: Datadog's intake goes to the page's
// own origin (`proxy`), and Chromium resolves no host name at all (only 127.0.0.1 is used).
import { chromium } from 'playwright-core';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { CHROMIUM_FLAGS } from '../e2e/support/browser.mjs';
import { serveStatic } from '../e2e/support/static-server.mjs';
import { SDKS, bundle, usertrailMissing } from './build.mjs';
import { printTable } from './size.mjs';

const PAGE = (entryFile) => `<!doctype html>
<meta charset="utf-8">
<title>usertrail bench</title>
<script>
  window.BENCH_TRACING_URL = location.origin + '/api';
  window.BENCH_DD_PROXY = location.origin + '/dd-intake';
  const target = location.origin + '/api/bench';
  const other = location.origin + '/other/bench';
  const stub = (window.benchStub = { calls: 0, other: 0, seen: null });
  const realFetch = window.fetch;
  window.fetch = function fetch(input, init) {
    let url = '';
    try {
      url = input instanceof Request ? input.url : String(input);
    } catch {}
    if (url.startsWith(other)) {
      stub.otherCalls = (stub.otherCalls ?? 0) + 1;
      return Promise.resolve(new Response('ok', { status: 200, headers: { 'content-type': 'text/plain' } }));
    }
    if (url.startsWith(target)) {
      stub.calls++;
      if (stub.seen === null) stub.seen = [...new Request(input, init).headers];
      return Promise.resolve(new Response('ok', { status: 200, headers: { 'content-type': 'text/plain' } }));
    }
    // Anything else (the SDK's own .wasm, Datadog's intake via \`proxy\`) really goes to the
    // page's origin: the local static server.
    stub.other++;
    return realFetch.apply(this, arguments);
  };
  // \`allowed\`: a URL every SDK traces; otherwise one none of them does. Runs batches of
  // \`batch\` requests, at least two and until \`n\` requests or \`budgetMs\` have gone by, and
  // returns the ms of each batch: the fastest batch is the figure least disturbed by whatever
  // else the machine is doing.
  window.runBench = async (n, allowed = true, batch = n, budgetMs = Infinity) => {
    const url = allowed ? location.origin + '/api/bench' : location.origin + '/other/bench';
    const init = { method: 'POST', body: '{"n":1}', headers: { 'content-type': 'application/json' } };
    const batches = [];
    const start = performance.now();
    for (let done = 0; done < n && (batches.length < 2 || performance.now() - start < budgetMs); done += batch) {
      const t0 = performance.now();
      for (let i = 0; i < batch; i++) await benchFetch(url, init);
      batches.push(performance.now() - t0);
    }
    return batches;
  };
</script>
<script type="module">
  // Runs once the entry (the SDK, its init and the user) has run: when the app can make its
  // first instrumented request, in ms after the navigation started.
  import './${entryFile}';
  window.benchReadyAt = performance.now();
</script>
`;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Runs the benchmark; prints and returns `{ name: { perRequestUs: [..batches], best, median, headers } }`. */
export async function requestBench(outdir, { requests = 20_000, warmup = 1_000, rounds = 3, only } = {}) {
  const batch = Math.min(1_000, requests);
  const budgetMs = 4_000; // per page and URL kind: the slowest SDKs run fewer batches
  const sdks = [];
  for (const sdk of SDKS.filter((s) => !only || only.includes(s.name))) {
    if (sdk.name === 'usertrail' && usertrailMissing()) {
      console.log(`\n(b) usertrail not measured: ${usertrailMissing()}`);
      continue;
    }
    const b = await bundle(sdk, join(outdir, 'requests'));
    writeFileSync(join(b.dir, 'bench.html'), PAGE(b.entryFile));
    sdks.push(sdk);
  }
  const site = await serveStatic({ '/': join(outdir, 'requests') });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [...CHROMIUM_FLAGS, '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
  });
  const results = Object.fromEntries(
    sdks.map((s) => [s.name, { perRequestUs: [], otherUs: [], readyMs: [], headers: null, other: 0 }]),
  );
  try {
    for (let round = 0; round < rounds; round++) {
      // Rotate the order so that no SDK always runs first or last.
      const order = sdks.map((_, i) => sdks[(i + round) % sdks.length]);
      for (const sdk of order) {
        const context = await browser.newContext();
        const page = await context.newPage();
        const errors = [];
        page.on('pageerror', (e) => errors.push(e));
        await page.goto(`${site.url}/${sdk.name}/bench.html`);
        await page
          .waitForFunction(() => typeof window.benchFetch === 'function', null, { timeout: 15_000 })
          .catch((e) => {
            throw new Error(`${sdk.name}: the SDK did not start: ${errors.join('; ') || e.message}`);
          });
        await page.waitForTimeout(500); // let the SDK finish starting (Datadog: session, view)
        const readyMs = await page.evaluate(() => window.benchReadyAt);
        const measure = async (allowed) => {
          await page.evaluate(([n, allowed]) => window.runBench(n, allowed), [warmup, allowed]);
          const batches = await page.evaluate((args) => window.runBench(...args), [requests, allowed, batch, budgetMs]);
          return { batches, sent: warmup + batches.length * batch };
        };
        const allowed = await measure(true);
        const other = await measure(false);
        const stub = await page.evaluate(() => window.benchStub);
        if (stub.calls !== allowed.sent) throw new Error(`${sdk.name}: the stub saw ${stub.calls} of ${allowed.sent} requests`);
        if (stub.otherCalls !== other.sent) throw new Error(`${sdk.name}: the stub saw ${stub.otherCalls} of ${other.sent} other requests`);
        if (errors.length) throw new Error(`${sdk.name}: page errors: ${errors.join('; ')}`);
        const r = results[sdk.name];
        const us = (ms) => (ms * 1000) / batch;
        r.perRequestUs.push(...allowed.batches.map(us));
        r.otherUs.push(...other.batches.map(us));
        r.readyMs.push(readyMs);
        r.headers = stub.seen.map(([k]) => k).filter((k) => !['content-type'].includes(k));
        r.other = Math.max(r.other, stub.other);
        await context.close();
      }
    }
  } finally {
    await browser.close();
    await site.close();
  }
  for (const r of Object.values(results)) {
    r.best = Math.min(...r.perRequestUs);
    r.median = median(r.perRequestUs);
    r.otherBest = Math.min(...r.otherUs);
    r.readyMedian = median(r.readyMs);
  }

  console.log(`\n(b) per-request cost: awaited fetch POSTs in batches of ${batch} (up to ${requests} or ${budgetMs / 1000} s per page) after`);
  console.log(`    ${warmup} warm-up, stubbed network, headless Chromium, fresh page per SDK and round, ${rounds} round(s);`);
  console.log('    µs per request in the fastest batch of all rounds (the median batch beside it)\n');
  const base = results.none?.best ?? 0;
  const otherBase = results.none?.otherBest ?? 0;
  const readyBase = results.none?.readyMedian ?? 0;
  const plus = (x, b) => `+${(x - b).toFixed(2)}`;
  const lines = [
    ['SDK', 'allowed URL µs', 'over baseline', 'median batch', 'not-allowed URL µs', 'over baseline', 'ready at ms', 'over baseline'],
  ];
  for (const sdk of sdks) {
    const r = results[sdk.name];
    const isBase = sdk.name === 'none';
    lines.push([
      sdk.label,
      r.best.toFixed(2),
      isBase ? '-' : plus(r.best, base),
      r.median.toFixed(2),
      r.otherBest.toFixed(2),
      isBase ? '-' : plus(r.otherBest, otherBase),
      r.readyMedian.toFixed(1),
      isBase ? '-' : plus(r.readyMedian, readyBase),
    ]);
  }
  printTable(lines);
  console.log('\n"ready at": when the app can make its first instrumented request (the SDK loaded and initialized),');
  console.log('in ms after the navigation started, median of the rounds. Headers each SDK added to an allowed request:');
  for (const sdk of sdks) console.log(`  ${sdk.label}: ${results[sdk.name].headers.join(' ') || '(none)'}`);
  if (results.usertrail) {
    const u = results.usertrail;
    console.log(`\nusertrail over baseline: +${(u.best - base).toFixed(2)} µs per allowed request, +${(u.otherBest - otherBase).toFixed(2)} µs per not-allowed one`);
    const dd = results['datadog-rum'];
    if (dd) console.log(`Datadog RUM over baseline: +${(dd.best - base).toFixed(2)} µs (usertrail is ${((u.best - base) / (dd.best - base)).toFixed(3)} of it)`);
  }
  console.log('OpenTelemetry: no span exporter configured; its fetch calls run inside context.with(baggage);');
  console.log('most of its cost here is cloning and reading every response body to time the span.');
  return results;
}
