// The packed tarball in the apps users build: installed with npm into tests/apps/web and
// tests/apps/next, built by esbuild, Rollup, webpack 5, Vite (build and dev server), Next.js
// (Turbopack and webpack, server-rendered by `next start`), and served as is to a plain
// <script type="module"> with an import map. No tool gets any usertrail-specific configuration.
// Each page runs in headless Chromium and a real server records the headers it received.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

import { build as esbuild } from 'esbuild';
import { rollup } from 'rollup';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import webpack from 'webpack';
import { build as viteBuild, createServer as viteServer } from 'vite';

import { launchChromium, openPage } from './support/browser.mjs';
import { UUID_V4, checkTraceHeaders, startRecorder } from './support/header-recorder.mjs';
import { installApp, root } from './support/packed.mjs';
import { serveStatic } from './support/static-server.mjs';

let web;
let browser;
let api;
const closers = [];

before(async () => {
  web = installApp('web');
  browser = await launchChromium();
  api = await startRecorder();
});
after(async () => {
  for (const close of closers.reverse()) await close();
  await browser?.close();
  await api?.close();
});
beforeEach(() => api.clear());

/** An HTML page that loads `script` (a module unless `classic`). */
const page = (script, { classic = false, head = '' } = {}) =>
  `<!doctype html><meta charset="utf-8">${head}<script ${classic ? 'defer' : 'type="module"'} src="${script}"></script>`;

/** Serves `dir` on 127.0.0.1; its URL. */
async function serve(dir) {
  const server = await serveStatic({ '/': dir });
  closers.push(() => server.close());
  return server.url;
}

/**
 * Opens `url?api=…` in Chromium and checks what tests/apps/web/src/app.js promises: the app got
 * its responses, and its fetch and XHR reached the api with the trace headers and the baggage.
 */
async function assertAppInstrumented(url, { result = 'appResult' } = {}) {
  const tab = await openPage(browser);
  try {
    await tab.goto(`${url}${url.includes('?') ? '&' : '?'}api=${encodeURIComponent(api.url)}`);
    await tab.waitForFunction((name) => window[name] !== undefined, result, { timeout: 20_000 });
    const app = await tab.evaluate((name) => window[name], result);
    assert.equal(app.error, undefined, app.error);
    assert.deepEqual([app.reply, app.xhrReply], ['ok', 'ok']);
    assert.match(app.sessionId, UUID_V4);
    assert.equal(app.viaObject, app.sessionId);
    const records = await api.waitFor(2);
    assert.deepEqual(records.map((r) => r.path).sort(), ['/orders', '/xhr']);
    for (const r of records) {
      checkTraceHeaders(assert, r.headers);
      assert.equal(r.headers.baggage, `session.id=${app.sessionId},user.id=user_123,account.id=account_456`);
    }
    assert.deepEqual(tab.pageErrors, []);
  } finally {
    await tab.close();
  }
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('esbuild (--bundle --format=esm --minify)', async () => {
  await esbuild({
    absWorkingDir: web,
    entryPoints: ['src/app.js'],
    bundle: true,
    format: 'esm',
    minify: true,
    outfile: 'out-esbuild/bundle.js',
    logLevel: 'silent',
  });
  writeFileSync(join(web, 'out-esbuild/index.html'), page('./bundle.js'));
  await assertAppInstrumented(`${await serve(join(web, 'out-esbuild'))}/index.html`);
});

test('Rollup with @rollup/plugin-node-resolve (ES and IIFE output)', async () => {
  const bundle = await rollup({ input: join(web, 'src/app.js'), plugins: [nodeResolve({ browser: true })], logLevel: 'silent' });
  await bundle.write({ file: join(web, 'out-rollup/bundle.mjs'), format: 'es' });
  // An IIFE for a classic <script>: there is no top-level await to stop it.
  await bundle.write({ file: join(web, 'out-rollup/bundle.iife.js'), format: 'iife' });
  await bundle.close();
  writeFileSync(join(web, 'out-rollup/index.html'), page('./bundle.mjs'));
  writeFileSync(join(web, 'out-rollup/classic.html'), page('./bundle.iife.js', { classic: true }));
  const url = await serve(join(web, 'out-rollup'));
  await assertAppInstrumented(`${url}/index.html`);
  api.clear();
  await assertAppInstrumented(`${url}/classic.html`);
});

test('webpack 5 (production mode)', async () => {
  const stats = await new Promise((resolve, reject) =>
    webpack(
      {
        mode: 'production',
        context: web,
        entry: './src/app.js',
        output: { path: join(web, 'out-webpack'), filename: 'bundle.js' },
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    ),
  );
  assert.ok(!stats.hasErrors(), stats.toString('errors-only'));
  assert.deepEqual(stats.toJson({ warnings: true }).warnings, [], 'no webpack warning');
  writeFileSync(join(web, 'out-webpack/index.html'), page('./bundle.js', { classic: true }));
  await assertAppInstrumented(`${await serve(join(web, 'out-webpack'))}/index.html`);
});

test('Vite build', async () => {
  await viteBuild({ root: web, configFile: false, logLevel: 'silent', build: { outDir: join(web, 'out-vite') } });
  await assertAppInstrumented(`${await serve(join(web, 'out-vite'))}/index.html`);
});

test('Vite dev server (dependency pre-bundling on)', async () => {
  const port = await freePort();
  const server = await viteServer({
    root: web,
    configFile: false,
    logLevel: 'silent',
    server: { host: '127.0.0.1', port, strictPort: true },
  });
  await server.listen();
  closers.push(() => server.close());
  await assertAppInstrumented(`http://127.0.0.1:${port}/index.html`);
});

test('a plain <script type="module"> with an import map, no bundler', async () => {
  writeFileSync(
    join(web, 'plain.html'),
    page('./src/app.js', {
      head: '<script type="importmap">{"imports":{"usertrail":"/node_modules/usertrail/dist/index.js"}}</script>',
    }),
  );
  await assertAppInstrumented(`${await serve(web)}/plain.html`);
});

/** Runs `next <args>` in `dir`; resolves with its output once it exits 0 (or prints `ready` for `start`). */
function next(dir, args, { until } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(join(root, 'node_modules/.bin/next'), args, {
      cwd: dir,
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const onData = (chunk) => {
      output += chunk;
      if (until && until.test(output)) resolve({ output, child });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      if (code === 0 && !until) resolve({ output, child });
      else reject(new Error(`next ${args.join(' ')} exited ${code}:\n${output}`));
    });
    if (until) closers.push(() => new Promise((done) => (child.exitCode !== null ? done() : (child.once('exit', done), child.kill()))));
  });
}

for (const [bundler, flag] of [
  ['Turbopack', []],
  ['webpack', ['--webpack']],
]) {
  test(`Next.js 16 app router, built with ${bundler}: next build prerenders the page, next start serves it, the browser instruments it`, async () => {
    const app = installApp('next');
    const built = await next(app, ['build', ...flag]);
    assert.doesNotMatch(built.output, /usertrail:/, 'the server render prints nothing of usertrail');
    const port = await freePort();
    const started = await next(app, ['start', '--port', String(port), '--hostname', '127.0.0.1'], { until: /Ready|started server/i });
    const url = `http://127.0.0.1:${port}/`;
    // The server render of the page that uses the SDK: the client component rendered too.
    const html = await (await fetch(url)).text();
    assert.match(html, /<p id="server-user">\{\}<\/p>/);
    assert.match(html, /<p id="result">loading<\/p>/);

    const tab = await openPage(browser);
    try {
      await tab.goto(`${url}?api=${encodeURIComponent(api.url)}`);
      await tab.waitForFunction(() => document.getElementById('result')?.textContent.startsWith('{'), null, { timeout: 20_000 });
      const { reply, sessionId } = JSON.parse(await tab.textContent('#result'));
      assert.equal(reply, 'ok');
      const [record] = await api.waitFor(1);
      assert.equal(record.path, '/checkout');
      checkTraceHeaders(assert, record.headers);
      assert.equal(record.headers.baggage, `session.id=${sessionId},user.id=user_123`);
      assert.deepEqual(tab.pageErrors, []);
    } finally {
      await tab.close();
    }
    assert.doesNotMatch(started.output, /usertrail:|Error/, 'next start printed no error');
  });
}
