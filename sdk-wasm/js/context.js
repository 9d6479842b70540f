// The user and the account: what `setUser` / `setAccount` stored.
//
// The object is kept as a deep copy made with `JSON.parse(JSON.stringify(x))`, and the getters
// hand out another copy, so neither the app nor the SDK can change the other's object. Only the
// `id` goes on the wire (in `baggage`).
import { warn } from './report.js';

/** `JSON.parse(JSON.stringify(value))`; `undefined` when that throws (a cycle, a BigInt) or the value has no JSON form. */
function deepCopy(value) {
  try {
    const text = JSON.stringify(value);
    return text === undefined ? undefined : JSON.parse(text);
  } catch {}
}

const isPlainObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * A user or an account (`kind`, for warnings). Every method warns about a value it cannot take
 * and then leaves the context as it was.
 */
export class Context {
  constructor(kind) {
    this.kind = kind;
    /** The stored copy, `undefined` when cleared; it always has a string `id`. */
    this.value = undefined;
  }

  /** The id, for `baggage`. */
  get id() {
    return this.value?.id;
  }

  /** `copy` of `value`, or a warning that it has no JSON copy. */
  copyOf(value, what) {
    const copy = deepCopy(value);
    if (copy === undefined) this.refuse(`${what} has no JSON copy (a cycle, a BigInt?)`, value);
    return copy;
  }

  refuse(problem, value) {
    warn(`${this.kind} ${problem}; ignored:`, value);
  }

  /** Replaces the whole object; it needs a valid `id`. */
  set(value) {
    if (!isPlainObject(value)) return this.refuse('must be an object with an id', value);
    const copy = this.copyOf(value, 'object');
    if (copy !== undefined) this.store(copy, copy.id);
  }

  /** A copy of the stored object, `{}` when there is none. */
  get() {
    return this.value === undefined ? {} : deepCopy(this.value);
  }

  /** Sets one property; `id` is validated as in `set`. */
  setProperty(key, value) {
    if (typeof key !== 'string') return this.refuse('property name must be a string', key);
    const copy = this.copyOf(value, 'property value');
    if (copy === undefined) return;
    if (key === 'id') this.store(this.value ?? {}, copy);
    else if (this.value === undefined) this.refuse('has no id yet: set one first', key);
    // Defined rather than assigned: a key such as `__proto__` is kept as a property.
    else Object.defineProperty(this.value, key, { value: copy, enumerable: true, writable: true, configurable: true });
  }

  /** Removes one property; removing `id` clears the whole context, since an id is required. */
  removeProperty(key) {
    if (typeof key !== 'string') this.refuse('property name must be a string', key);
    else if (key === 'id') this.clear();
    else if (this.value !== undefined) delete this.value[key];
  }

  clear() {
    this.value = undefined;
  }

  /** Keeps `object` with `id` (a non-empty string, or a finite number as its decimal text). */
  store(object, id) {
    const text = typeof id === 'number' && Number.isFinite(id) ? String(id) : id;
    if (typeof text !== 'string' || text === '') return this.refuse('id must be a non-empty string or a number', id);
    object.id = text;
    this.value = object;
  }
}
