// in-page A/B: µs per awaited fetch through the SDK's patch vs the stub it wraps, interleaved
// chunks, min per side (machine noise is large here); allowed and not-allowed URLs.
import { launchChromium } from './e2e/support/browser.mjs';
import { serveStatic } from './e2e/support/static-server.mjs';
const dir = process.argv[2] ?? '/work/main/dist';
const page = `<!doctype html><script>
  window.fetch = function (input, init) { return Promise.resolve(new Response('ok')); };
  window.stub = window.fetch;
</script><script type="module">
import * as sdk from '/pkg/index.js';
sdk.init({ allowedTracingUrls: [location.origin + '/api'], propagateTraceBaggage: true });
sdk.setUser({ id: 'user_123', name: 'Ada' }); sdk.setAccount({ id: 'account_456' });
const init = { method: 'POST', body: '{"n":1}', headers: { 'content-type': 'application/json' } };
const chunk = async (f, url, n) => { const t0 = performance.now(); for (let i = 0; i < n; i++) await f(url, init); return (performance.now() - t0) * 1000 / n; };
window.ab = async (path, rounds = 40, n = 1000) => {
  const url = location.origin + path; let a = Infinity, b = Infinity;
  for (let r = 0; r < rounds; r++) { a = Math.min(a, await chunk(window.stub, url, n)); b = Math.min(b, await chunk(window.fetch, url, n)); }
  return { stub: a, sdk: b, over: b - a };
};
window.ready = true;
</script>`;
const s = await serveStatic({ '/pkg/': dir }, { pages: { '/': { body: page } } });
const b = await launchChromium();
const p = await b.newPage();
await p.goto(s.url + '/');
await p.waitForFunction(() => window.ready);
await p.evaluate(() => ab('/api/x', 5));
const allowed = await p.evaluate(() => ab('/api/x'));
const other = await p.evaluate(() => ab('/other/x'));
const f = (x) => x.toFixed(2);
console.log(`allowed: stub ${f(allowed.stub)} sdk ${f(allowed.sdk)} over +${f(allowed.over)} | not allowed: stub ${f(other.stub)} sdk ${f(other.sdk)} over +${f(other.over)}`);
await b.close(); await s.close();
