import { launchChromium } from './e2e/support/browser.mjs';
import { serveStatic } from './e2e/support/static-server.mjs';
const page = `<!doctype html><script>
  const realFetch = window.fetch;
  window.fetch = function (input, init) { return Promise.resolve(new Response('ok')); };
</script><script type="module">
import * as sdk from '/pkg/index.js';
sdk.init({ allowedTracingUrls: [location.origin + '/api'], propagateTraceBaggage: true });
sdk.setUser({ id: 'user_123', name: 'Ada' }); sdk.setAccount({ id: 'account_456' });
window.run = async (n, path) => { const init = { method: 'POST', body: '{"n":1}', headers: { 'content-type': 'application/json' } };
  const t0 = performance.now(); for (let i = 0; i < n; i++) await fetch(location.origin + path, init); return (performance.now() - t0) * 1000 / n; };
window.ready = true;
</script>`;
const s = await serveStatic({ '/pkg/': '/work/main/dist' }, { pages: { '/': { body: page } } });
const b = await launchChromium();
const p = await b.newPage();
await p.goto(s.url + '/');
await p.waitForFunction(() => window.ready);
await p.evaluate(() => run(5000, '/api/x'));
const client = await p.context().newCDPSession(p);
await client.send('Profiler.enable');
await client.send('Profiler.setSamplingInterval', { interval: 50 });
await client.send('Profiler.start');
const us = await p.evaluate(() => run(30000, '/api/x'));
const { profile } = await client.send('Profiler.stop');
console.log('allowed µs/req', us.toFixed(2), 'not allowed', (await p.evaluate(() => run(30000, '/other/x'))).toFixed(2));
const self = new Map(); const total = profile.samples.length;
const byId = new Map(profile.nodes.map(n => [n.id, n]));
const counts = new Map(); for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
for (const [id, c] of counts) { const n = byId.get(id); const k = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber}`; self.set(k, (self.get(k) ?? 0) + c); }
for (const [k, c] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log((100 * c / total).toFixed(1).padStart(5) + '%', k);
await b.close(); await s.close();
