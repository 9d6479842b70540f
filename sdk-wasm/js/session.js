// The browser session: a random UUID v4 shared by the tabs and page loads of one origin.
//
// RUM conventions: a session ends after 15 minutes without activity or 4 hours in total, and on
// `stopSession()`. With `local-storage` persistence the session lives in `localStorage`, so every
// tab of the origin uses the same one; each tab keeps a copy and re-reads the stored one at most
// once a second, so most requests cost only a clock read.

/** The `localStorage` key holding `id=<uuid>&created=<ms>&expire=<ms>`. */
export const STORAGE_KEY = '_usertrail_s';
export const INACTIVITY_MS = 15 * 60 * 1000;
export const MAX_DURATION_MS = 4 * 60 * 60 * 1000;
/** How stale this tab's copy of the stored session may be, and how often activity is written. */
const SYNC_MS = 1000;

/** What `encode` writes: a UUID and two times in ms. */
const STORED = /^id=([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})&created=(\d{1,16})&expire=(\d{1,16})$/;

/** An RFC 9562 version 4 UUID from the platform's CSPRNG (`crypto.randomUUID` needs a secure context; this does not). */
export function uuidV4(bytes = crypto.getRandomValues(new Uint8Array(16))) {
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  let hex = '';
  for (let i = 0; i < 16; i++) {
    hex += (bytes[i] | 0x100).toString(16).slice(1);
    if (i === 3 || i === 5 || i === 7 || i === 9) hex += '-';
  }
  return hex;
}

/** The stored form of a session. */
export function encode(session) {
  return `id=${session.id}&created=${session.created}&expire=${session.expire}`;
}

/** Parses what `encode` wrote; anything else (another version, a user's edit) is no session. */
export function decode(text) {
  const m = STORED.exec(text);
  return m ? { id: m[1], created: Number(m[2]), expire: Number(m[3]) } : undefined;
}

/**
 * Whether a session is in the trace sample at `rate` percent (0 to 100).
 *
 * Decided from the session id, so every tab and page load of a session decides alike without
 * storing anything more. The last 12 hex digits of a UUID v4 are 48 random bits.
 */
export function isSampled(sessionId, rate) {
  return rate >= 100 || parseInt(sessionId.slice(-12), 16) < (rate / 100) * 2 ** 48;
}

/** `localStorage`, or `undefined` where there is none or reading it throws (workers, sandboxed frames, storage disabled). */
function localStorageOrNone() {
  try {
    return globalThis.localStorage ?? undefined;
  } catch {
    return undefined;
  }
}

/** This tab's view of the session. `storage` is a `Storage`-like object or `undefined` (memory only). */
export class SessionStore {
  constructor(storage = localStorageOrNone()) {
    this.storage = storage;
    this.current = undefined;
    /** When this tab last read or wrote the stored session. */
    this.syncedAt = -Infinity;
  }

  /** `'memory'`: one session per page load; the storage is no longer used. */
  keepInMemory() {
    this.storage = undefined;
  }

  /**
   * The live session's id, after recording activity at `now`: starts a new session when there
   * is none or it expired, and extends the inactivity deadline otherwise.
   */
  touch(now) {
    const { storage } = this;
    if (storage && now - this.syncedAt >= SYNC_MS) {
      // Storage is the truth: another tab may have started, extended or stopped it.
      try {
        this.current = decode(storage.getItem(STORAGE_KEY));
      } catch {}
      this.syncedAt = now;
    }
    let session = this.current;
    let dirty = false;
    if (!session || now >= session.expire || now >= session.created + MAX_DURATION_MS) {
      session = this.current = { id: uuidV4(), created: now, expire: now + INACTIVITY_MS };
      dirty = true;
    }
    const expire = Math.min(now + INACTIVITY_MS, session.created + MAX_DURATION_MS);
    if (expire - session.expire >= SYNC_MS) {
      session.expire = expire;
      dirty = true;
    }
    if (storage && dirty) {
      try {
        storage.setItem(STORAGE_KEY, encode(session));
      } catch {
        // Storage fails (quota, disabled): this tab keeps its own copy from then on.
        this.storage = undefined;
      }
      this.syncedAt = now;
    }
    return session.id;
  }

  /** Ends the session; the next activity starts a new one. */
  stop() {
    this.current = undefined;
    this.syncedAt = -Infinity;
    try {
      this.storage?.removeItem(STORAGE_KEY);
    } catch {}
  }
}
