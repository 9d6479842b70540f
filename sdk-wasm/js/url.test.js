// `node --test sdk-wasm/js/`: the URL shortcut gives what the WHATWG parser gives, or stands aside.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { absoluteUrl, alreadyAbsolute } from './url.js';

const BASES = ['https://shop.example.com/cart/page?x=1#top', 'http://127.0.0.1:8080/', 'https://a.b.c:8443/deep/er/', 'https://u:p@Shop.Example.com:443/x', 'about:blank'];

// prettier-ignore
const TRICKY = [
  'https://api.example.com/orders', 'http://127.0.0.1:8080/api/x?y=1#z', 'https://API.example.com/', 'HTTPS://api.example.com/',
  'https://api.example.com', 'https://api.example.com:443/x', 'http://api.example.com:80/x', 'https://api.example.com:0443/',
  'https://api.example.com:99999/', 'http://127.1/', 'http://0x7f.0.0.1/', 'http://1.2.3.0377/', 'http://999.1.1.1/',
  'http://123/', 'https://xn--nxasmq6b.com/', 'https://api.example.com./x', 'https://api..example.com/', 'https://u@api.example.com/',
  'https://api.example.com/a/../b', 'https://api.example.com/a/./b', 'https://api.example.com/%2e%2E/b', 'https://api.example.com/.well-known',
  "https://api.example.com/?q='x'", 'https://api.example.com/a b', 'https://api.example.com/\\x', 'https://api.example.com/\tx',
  'https://api.example.com/é', 'https://api.example.com/%zz%41', 'https://api.example.com/a?b=/.c', 'https://api.example.com/#a#b?c',
  'https://api.example.com//double', 'https://api.example.com/a|b', 'https://api.example.com/a^b', 'https://api.example.com/a{b}',
  '/api/x', '/api/../x', '//evil.example/x', '/a b', 'api/x', '?q=1', '#f', '', ' /api', 'https:api.example.com/x', 'ftp://a.b/',
  'https://-a-.b-/x', 'https://a_b.example/x', 'https://1.2.3.4/x', 'https://1.2.3.4.5/x', 'https://a.1/x', 'https://a.0x/x',
];

/** Random URLs from pieces that the parser treats specially. */
function* randomUrls(n) {
  const pick = (xs) => xs[Math.floor(Math.random() * xs.length)];
  const schemes = ['http://', 'https://', 'HTTP://', 'ws://', ''];
  const hosts = ['a.com', 'A.com', '127.0.0.1', '127.1', '0x7f.1', 'a..b', 'xn--a', 'a-b.c-d', '1.2.3', 'x.y.256', 'a_b', ''];
  const ports = ['', ':80', ':443', ':8080', ':0', ':065535', ':65536', ':1'];
  const chars = ['a', 'Z', '/', '.', '..', '%2e', '%', '?', '#', "'", ' ', '\\', '\t', '@', ':', ';', '~', '!', '$', '&', '(', 'é', '|', '-', '_'];
  for (let i = 0; i < n; i++) {
    let path = pick(['', '/', '/x']);
    for (let j = Math.floor(Math.random() * 8); j > 0; j--) path += pick(chars);
    yield pick(schemes) + pick(hosts) + pick(ports) + path;
  }
}

test('the shortcut agrees with the WHATWG URL parser, for tricky and random URLs against every base', () => {
  let shortcuts = 0;
  for (const url of [...TRICKY, ...randomUrls(20_000)]) {
    for (const base of BASES) {
      let expected;
      try {
        expected = new URL(url, base).href;
      } catch {
        expected = 'throws';
      }
      let actual;
      try {
        actual = absoluteUrl(url, base);
      } catch {
        actual = 'throws';
      }
      if (alreadyAbsolute(url) !== undefined) shortcuts++;
      assert.equal(actual, expected, `${JSON.stringify(url)} against ${base}`);
    }
  }
  assert.ok(shortcuts > 500, `the shortcut was taken ${shortcuts} times`);
});

test('the shortcut is taken for the usual request URLs', () => {
  for (const url of ['https://api.example.com/orders?page=2', 'http://127.0.0.1:8080/api/x']) assert.equal(alreadyAbsolute(url), url);
  for (const url of ['https://API.example.com/', 'https://api.example.com', 'http://127.1/', 'https://api.example.com/a/../b']) {
    assert.equal(alreadyAbsolute(url), undefined, url);
  }
});
