import { launchChromium } from './e2e/support/browser.mjs';
import { serveStatic } from './e2e/support/static-server.mjs';
const page = `<!doctype html><script type="module">
import * as sdk from '/pkg/index.js';
sdk.init({ allowedTracingUrls: [location.origin + '/api'], propagateTraceBaggage: true });
const s = globalThis.__sdk; const ids = [s.session.touch(Date.now()), 'user_123', 'account_456'];
window.run = (n) => { for (let i = 0; i < n; i++) s.core.headersFor(3, true, true, true, ...ids, undefined); };
window.ready = true;
</script>`;
const s = await serveStatic({ '/pkg/': '/tmp/vn' }, { pages: { '/': { body: page } } });
const b = await launchChromium();
const p = await b.newPage();
await p.goto(s.url + '/');
await p.waitForFunction(() => window.ready);
await p.evaluate(() => run(20000));
const client = await p.context().newCDPSession(p);
await client.send('Profiler.enable');
await client.send('Profiler.setSamplingInterval', { interval: 20 });
await client.send('Profiler.start');
await p.evaluate(() => run(100000));
const { profile } = await client.send('Profiler.stop');
const byId = new Map(profile.nodes.map(n => [n.id, n]));
const counts = new Map(); for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
const self = new Map(); const total = profile.samples.length;
for (const [id, c] of counts) { const n = byId.get(id); const k = (n.callFrame.functionName || '(anon)').slice(0, 110); self.set(k, (self.get(k) ?? 0) + c); }
for (const [k, c] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log((100 * c / total).toFixed(1).padStart(5) + '%', k);
await b.close(); await s.close();
