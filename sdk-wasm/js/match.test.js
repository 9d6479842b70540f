// `node --test sdk-wasm/js/`: the URL matchers, on their own.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { prefixMatches, urlTest } from './match.js';

// prettier-ignore
const CASES = [
  ['https://api.example.com', 'https://api.example.com', true, 'the prefix itself'],
  ['https://api.example.com', 'https://api.example.com/orders', true, 'a path'],
  ['https://api.example.com', 'https://api.example.com?x', true, 'a query'],
  ['https://api.example.com', 'https://api.example.com#x', true, 'a fragment'],
  ['https://api.example.com', 'https://api.example.com:8443/x', true, 'a port on the same host'],
  ['https://api.example.com/', 'https://api.example.com/orders', true, 'prefix ends with /'],
  ['https://api.example.com/v1', 'https://api.example.com/v1/orders', true, 'a path prefix'],
  ['https://api.example.com/v1?', 'https://api.example.com/v1?a=1', true, 'prefix ends with ?'],
  ['https://api.example.com', 'https://api.example.com.evil.net/', false, 'a longer host (Datadog matches it)'],
  ['https://api.example.com', 'https://api.example.community/', false, 'a host that extends the name'],
  ['https://api.example.com', 'https://api.example.com@evil.net/', false, 'userinfo trick'],
  ['https://api.example.com/v1', 'https://api.example.com/v12', false, 'a longer path segment'],
  ['https://api.example.com/v1', 'https://api.example.com/v1:x', false, 'no port after a path'],
  ['https://api.example.com', 'http://api.example.com/', false, 'another scheme'],
  ['https://api.example.com', 'https://other.example.com/', false, 'another host'],
  ['', 'https://api.example.com/', false, 'an empty prefix matches nothing'],
];

test('a string entry matches only at a URL boundary', () => {
  for (const [prefix, url, expected, why] of CASES) {
    assert.equal(prefixMatches(prefix, url), expected, `${why}: ${prefix} vs ${url}`);
  }
});

test('RegExp entries match every time, whatever their flags', () => {
  const test = urlTest(/api\.example\.com/g, () => {});
  assert.deepEqual([1, 2, 3].map(() => test('https://api.example.com/x')), [true, true, true]);
});

test('a throwing function entry is no match, and reported', () => {
  let reported = 0;
  const test = urlTest(() => {
    throw new Error('boom');
  }, () => reported++);
  assert.equal(test('https://api.example.com/'), false);
  assert.equal(reported, 1);
  assert.equal(urlTest((url) => url.includes('/api/'), () => {})('https://x/api/y'), true);
});

test('anything but a non-empty string, a RegExp or a function is not a matcher', () => {
  for (const value of ['', 42, null, undefined, {}, ['https://x']]) assert.equal(urlTest(value, () => {}), undefined);
});
