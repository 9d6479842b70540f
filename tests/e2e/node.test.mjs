// The packed package in Node, where server renders and unit tests import it: `import`,
// `require`, and a Vitest test. It loads, every export answers, and it prints nothing.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

import { installApp, root } from './support/packed.mjs';

let app;
before(() => {
  app = installApp('node');
});

const INERT = { getUser: {}, getAccount: {}, getSessionId: null, viaObject: {} };

function run(command, args) {
  const result = spawnSync(command, args, { cwd: app, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  assert.equal(result.status, 0, `${command} ${args.join(' ')} exited ${result.status}: ${result.stderr}${result.stdout}`);
  return result;
}

test('the tarball ships the built package only: ESM, CommonJS and types', () => {
  assert.deepEqual(readdirSync(join(app, 'node_modules/usertrail/dist')).sort(), [
    'index.cjs',
    'index.d.cts',
    'index.d.ts',
    'index.js',
  ]);
  assert.deepEqual(readdirSync(join(app, 'node_modules/usertrail')).sort(), ['README.md', 'dist', 'package.json']);
});

test('import in Node: every export answers, silently and without touching the network', () => {
  const { stdout, stderr } = run(process.execPath, ['esm.mjs']);
  assert.deepEqual(JSON.parse(stdout), INERT);
  assert.equal(stderr, '', 'nothing printed: in Node the SDK is silent');
});

test('require in Node (CommonJS, as Jest loads it): the same', () => {
  const { stdout, stderr } = run(process.execPath, ['cjs.cjs']);
  assert.deepEqual(JSON.parse(stdout), INERT);
  assert.equal(stderr, '');
});

test('a Vitest test of an app that uses the SDK passes, and nothing of usertrail is printed', () => {
  const { stdout, stderr } = run(join(root, 'node_modules/.bin/vitest'), ['run', '--root', app, '--reporter', 'verbose']);
  assert.match(stdout, /1 passed/);
  assert.doesNotMatch(stdout + stderr, /usertrail:/);
});
