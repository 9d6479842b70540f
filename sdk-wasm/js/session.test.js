// `node --test sdk-wasm/js/`: the session store, with a fake clock and an in-memory storage.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { INACTIVITY_MS, MAX_DURATION_MS, STORAGE_KEY, SessionStore, decode, encode, isSampled, uuidV4 } from './session.js';

/** A `Storage` with what the store uses; `fail` makes writes throw (quota, disabled storage). */
function memoryStorage({ fail = false } = {}) {
  const items = new Map();
  return {
    items,
    getItem: (k) => (items.has(k) ? items.get(k) : null),
    setItem: (k, v) => {
      if (fail) throw new Error('QuotaExceededError');
      items.set(k, String(v));
    },
    removeItem: (k) => items.delete(k),
  };
}

test('uuidV4 sets the version and variant bits', () => {
  assert.equal(uuidV4(new Uint8Array(16).fill(0xff)), 'ffffffff-ffff-4fff-bfff-ffffffffffff');
  assert.equal(uuidV4(new Uint8Array(16)), '00000000-0000-4000-8000-000000000000');
  assert.match(uuidV4(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

test('the stored form round-trips and edits are no session', () => {
  const session = { id: uuidV4(new Uint8Array(16).fill(1)), created: 1_700_000_000_123, expire: 1_700_000_900_123 };
  assert.deepEqual(decode(encode(session)), session);
  for (const text of ['id=not-a-uuid&created=1&expire=2', 'garbage', '', null, `id=${session.id}&created=-1&expire=2`]) {
    assert.equal(decode(text), undefined, String(text));
  }
});

test('a session ends after 15 minutes without activity, and after 4 hours however active', () => {
  const store = new SessionStore(memoryStorage());
  const first = store.touch(0);
  assert.equal(store.touch(INACTIVITY_MS - 1), first, 'activity just in time');
  assert.notEqual(store.touch(2 * INACTIVITY_MS), first, 'renewed after 15 idle minutes');

  const busy = new SessionStore(memoryStorage());
  const id = busy.touch(0);
  let t = 0;
  for (; t < MAX_DURATION_MS - 60_000; t += 60_000) assert.equal(busy.touch(t), id);
  assert.notEqual(busy.touch(MAX_DURATION_MS), id, 'renewed at 4 hours');
});

test('tabs share the stored session; stop() ends it for all of them', () => {
  const storage = memoryStorage();
  const a = new SessionStore(storage);
  const b = new SessionStore(storage);
  const id = a.touch(1_000);
  assert.equal(b.touch(1_500), id);
  assert.equal(decode(storage.items.get(STORAGE_KEY)).id, id);
  a.stop();
  assert.equal(storage.items.has(STORAGE_KEY), false);
  const next = b.touch(5_000);
  assert.notEqual(next, id, 'the other tab sees the stop at its next sync');
});

test('failing storage and memory persistence keep a session of their own', () => {
  const failing = new SessionStore(memoryStorage({ fail: true }));
  const id = failing.touch(0);
  assert.equal(failing.touch(5_000), id);
  const storage = memoryStorage();
  const memory = new SessionStore(storage);
  memory.keepInMemory();
  memory.touch(0);
  assert.equal(storage.items.size, 0);
});

test('sampling reads the last 48 bits of the id and follows the rate', () => {
  const ids = Array.from({ length: 256 }, (_, b) => uuidV4(new Uint8Array(16).fill(b)));
  assert.ok(ids.every((id) => isSampled(id, 100)));
  assert.ok(ids.every((id) => !isSampled(id, 0)));
  const half = ids.filter((id) => isSampled(id, 50)).length;
  assert.ok(half >= 100 && half <= 156, `${half} of 256 sampled at 50%`);
  assert.equal(isSampled('00000000-0000-4000-8000-7fffffffffff', 50), true);
  assert.equal(isSampled('00000000-0000-4000-8000-800000000000', 50), false);
});
