// The demo with OTEL_EXPORTER_OTLP_ENDPOINT set: the same spans go over OTLP/HTTP (protobuf) to
// a collector (here a recording server on loopback) instead of the local store.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cargoBinary } from './support/binaries.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const batches = []; // { path, contentType, body: Buffer }
let collector;
let child;
let dataDir;
let demo;
let output = '';

before(async () => {
  collector = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      batches.push({ path: req.url, contentType: req.headers['content-type'], body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end();
    });
  });
  await new Promise((r) => collector.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${collector.address().port}`;

  dataDir = mkdtempSync(join(tmpdir(), 'usertrail-demo-otlp-'));
  child = spawn(
    cargoBinary('usertrail-demo'),
    ['--any-ports', '--data-dir', dataDir, '--pkg-dir', join(root, 'dist'), '--exit-with-stdin'],
    { cwd: root, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint } },
  );
  child.stderr.on('data', (d) => (output += d));
  demo = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo did not start:\n${output}`)), 30_000);
    child.stdout.on('data', (d) => {
      output += d;
      const line = /^usertrail-demo ready (.*)$/m.exec(output);
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line[1]));
      }
    });
    child.on('exit', (code) => reject(new Error(`the demo exited with ${code}:\n${output}`)));
  });
});

after(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  await new Promise((r) => collector?.close(r));
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('with OTEL_EXPORTER_OTLP_ENDPOINT, both services export their spans over OTLP/HTTP, identity included', async () => {
  assert.match(output, /exported over OTLP to http:\/\/127\.0\.0\.1:\d+/);
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const res = await fetch(`${demo.checkout}/api/checkout`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
      baggage: 'session.id=s-otlp-1,user.id=user_123,account.id=account_456',
    },
    body: JSON.stringify({ items: [{ id: 'beans', qty: 1 }], card: 'visa' }),
  });
  assert.equal(res.status, 200, await res.text());

  const end = Date.now() + 10_000;
  const all = () => Buffer.concat(batches.map((e) => e.body));
  // Both services' batches (each service has its own exporter: its own `service.name`).
  while (Date.now() < end && !(all().includes('payments') && all().includes('checkout'))) {
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(batches.length >= 2, `OTLP requests: ${batches.length}\n${output}`);
  for (const e of batches) {
    assert.equal(e.path, '/v1/traces');
    assert.equal(e.contentType, 'application/x-protobuf');
  }
  const body = all();
  // Protobuf keeps ids as raw bytes and strings as UTF-8.
  assert.ok(body.includes(Buffer.from(traceId, 'hex')), 'the browser trace id is continued');
  for (const text of ['service.name', 'checkout', 'payments', 'usr.id', 'user_123', 'account_456', 's-otlp-1', 'usr.role', 'POST /api/checkout', 'fraud.check']) {
    assert.ok(body.includes(text), `${text} in the exported spans`);
  }
  // The explorer says where the spans went, rather than showing an empty store.
  const status = await (await fetch(`${demo.shop}/api/status`)).json();
  assert.equal(status.mode, 'otlp');
  const search = await fetch(`${demo.shop}/api/search?q=status:error`);
  assert.equal(search.status, 503);
});
