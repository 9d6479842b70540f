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
  } catch {
    return undefined;
  }
}

const isPlainObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);

/** A user or an account. `onChange()` runs whenever the id changes. */
export class Context {
  constructor(kind, onChange) {
    /** `'user'` or `'account'`, for warnings. */
    this.kind = kind;
    this.onChange = onChange;
    /** The stored copy, `undefined` when cleared; it always has a string `id`. */
    this.value = undefined;
  }

  /** The id, for `baggage`. */
  get id() {
    return this.value?.id;
  }

  /** Replaces the whole object. A value without a usable `id` warns and changes nothing. */
  set(value) {
    if (!isPlainObject(value)) {
      warn(`${this.kind} must be an object with an id, ignored:`, value);
      return;
    }
    const copy = deepCopy(value);
    if (!isPlainObject(copy)) {
      warn(`${this.kind} cannot be copied (a cycle or a BigInt?), ignored:`, value);
      return;
    }
    const id = this.validId(copy.id);
    if (id !== undefined) this.store(copy, id);
  }

  /** A copy of the stored object, `{}` when there is none. */
  get() {
    return this.value === undefined ? {} : deepCopy(this.value);
  }

  /** Sets one property; `id` is validated as in `set`. */
  setProperty(key, value) {
    if (typeof key !== 'string') {
      warn(`${this.kind} property name must be a string, ignored:`, key);
      return;
    }
    const copy = deepCopy(value);
    if (copy === undefined) {
      warn(`${this.kind} property value cannot be copied, ignored:`, value);
      return;
    }
    if (key === 'id') {
      const id = this.validId(copy);
      if (id !== undefined) this.store(this.value ?? {}, id);
    } else if (this.value !== undefined) {
      // Defined rather than assigned: a key such as `__proto__` is kept as a property.
      Object.defineProperty(this.value, key, { value: copy, enumerable: true, writable: true, configurable: true });
    } else {
      warn(`${this.kind} has no id yet: set one first, property ignored`);
    }
  }

  /** Removes one property; removing `id` clears the whole context, since an id is required. */
  removeProperty(key) {
    if (typeof key !== 'string') warn(`${this.kind} property name must be a string:`, key);
    else if (key === 'id') this.clear();
    else if (this.value !== undefined) delete this.value[key];
  }

  clear() {
    const had = this.value !== undefined;
    this.value = undefined;
    if (had) this.onChange();
  }

  /** Keeps `object` with `id` written into it as a string. */
  store(object, id) {
    const changed = this.value?.id !== id;
    object.id = id;
    this.value = object;
    if (changed) this.onChange();
  }

  /** A string id as it is, a finite number as its decimal text; anything else warns. */
  validId(id) {
    const text = typeof id === 'number' && Number.isFinite(id) ? String(id) : id;
    if (typeof text === 'string' && text !== '') return text;
    warn(`${this.kind} id must be a non-empty string or a number; kept the previous value. Got:`, id);
    return undefined;
  }
}
