// `node --test sdk-wasm/js/`: the trace headers of a new trace, in each format, with one pair of
// fresh ids; the decimal ids against BigInt.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { decimal, traceHeaders } from './trace.js';

const record = (pairs) => {
  const out = {};
  for (let i = 0; i < pairs.length; i += 2) out[pairs[i]] = pairs[i + 1];
  return out;
};

test('decimal: the unsigned 64-bit number of two 32-bit halves, as BigInt writes it', () => {
  // Around each place the digits are split: 10^5, 10^12, 2^32, 2^53, 2^63.
  // prettier-ignore
  const cases = ['0000000000000000', '0000000000000001', '000000000001869f', '00000000000186a0', '00000000ffffffff',
    '0000000100000000', '000000e8d4a50fff', '000000e8d4a51000', '001fffffffffffff', '0020000000000000',
    '0de0b6b3a763ffff', '0de0b6b3a7640000', '7fffffffffffffff', '8000000000000000', 'ffffffffffffffff'];
  for (let i = 0; i < 2000; i++) cases.push(record(traceHeaders(8, true))['x-b3-spanid']);
  for (const hex of cases) {
    const [high, low] = [hex.slice(0, 8), hex.slice(8)].map((half) => parseInt(half, 16));
    assert.equal(decimal(high, low), BigInt(`0x${hex}`).toString(), hex);
  }
});

test('all four formats carry the same fresh ids; the sampled flag and priority follow `sampled`', () => {
  const h = record(traceHeaders(0b1111, true));
  const [, trace, span, flags] = h.traceparent.split('-');
  assert.match(trace, /^[0-9a-f]{32}$/);
  assert.match(span, /^[0-9a-f]{16}$/);
  assert.equal(flags, '03'); // sampled, and the Level 2 random flag
  assert.equal(h.tracestate, 'dd=s:1;o:rum');
  assert.equal(h['x-datadog-trace-id'], BigInt(`0x${trace.slice(16)}`).toString());
  assert.equal(h['x-datadog-parent-id'], BigInt(`0x${span}`).toString());
  assert.equal(h['x-datadog-sampling-priority'], '1');
  assert.equal(h['x-datadog-origin'], 'rum');
  assert.equal(h['x-datadog-tags'], `_dd.p.tid=${trace.slice(0, 16)}`);
  assert.equal(h.b3, `${trace}-${span}-1`);
  assert.deepEqual([h['x-b3-traceid'], h['x-b3-spanid'], h['x-b3-sampled']], [trace, span, '1']);

  const off = record(traceHeaders(0b1111, false));
  assert.ok(off.traceparent.endsWith('-02'));
  assert.equal(off.tracestate, 'dd=s:0;o:rum');
  assert.equal(off['x-datadog-sampling-priority'], '0');
  assert.ok(off.b3.endsWith('-0'));
  assert.equal(off['x-b3-sampled'], '0');
});

test('only the formats asked for, in their order; fresh ids for every request', () => {
  assert.deepEqual(traceHeaders(0b1, true).filter((_, i) => i % 2 === 0), ['traceparent', 'tracestate']);
  assert.deepEqual(traceHeaders(0b100, true).filter((_, i) => i % 2 === 0), ['b3']);
  assert.deepEqual(traceHeaders(0, true), []);
  const ids = new Set();
  for (let i = 0; i < 500; i++) ids.add(record(traceHeaders(1, true)).traceparent.slice(3, 52));
  assert.equal(ids.size, 500);
});
