// The build pipeline end to end: the built package, served by a real HTTP server, loads in
// a real headless Chromium and its WebAssembly module computes the session id.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

import { launchChromium, openPage } from './support/browser.mjs';
import { serveStatic } from './support/static-server.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
let server;
let browser;

before(async () => {
  server = await serveStatic({ '/pkg/': `${root}dist`, '/': `${root}tests/e2e/fixtures` });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test('the built package loads in Chromium and its wasm computes a UUID v4 session id', async () => {
  const page = await openPage(browser);
  const wasmResponses = [];
  page.on('response', (r) => r.url().endsWith('.wasm') && wasmResponses.push(r));
  await page.goto(`${server.url}/pipeline.html`);
  await page.waitForFunction(() => window.pipelineResult !== undefined, null, { timeout: 10_000 });
  const { id, again } = await page.evaluate(() => window.pipelineResult);

  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(again, id, 'the same session id on the second call');
  assert.equal(await page.textContent('#session-id'), id);
  assert.equal(wasmResponses.length, 1, 'the .wasm file was fetched once');
  assert.equal(wasmResponses[0].headers()['content-type'], 'application/wasm');
  assert.deepEqual(page.pageErrors, []);
  await page.close();
});

test('two page loads get different session ids from the browser RNG', async () => {
  const ids = [];
  for (let i = 0; i < 2; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}/pipeline.html`);
    await page.waitForFunction(() => window.pipelineResult !== undefined);
    ids.push(await page.evaluate(() => window.pipelineResult.id));
    await context.close();
  }
  assert.notEqual(ids[0], ids[1]);
});
