// The WebAssembly core (sdk-wasm/src): started once, by the first `init()`, from the bytes inside
// usertrail_wasm.js. Synchronously, so a request made right after `init()` returns already gets
// its headers; the SDK never fetches anything to start.
//
// The core takes numbers and bytes (see sdk-wasm/src/lib.rs): this file writes text into its
// memory as UTF-8 and reads the header lines back.
import { NIBBLES, glue, wasmText } from './usertrail_wasm.js';

/** The core's function over JavaScript strings, for `api`, a started glue (usertrail_wasm.js). */
function wrap(api) {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  return {
    /**
     * The header lines (`name\nvalue\n…`) for one matched request, or `undefined`.
     * `ids`: `[session, user, account]`, the last two `undefined` when not set.
     */
    headersFor(propagators, sampled, trace, baggage, ids, appBaggage) {
      // The texts, back to back as UTF-8 in the core's input buffer; a text that does not fit
      // is left out (an id), or leaves the app's header alone (its baggage).
      let at = api.input();
      const end = at + api.inputBytes();
      const lengths = [...ids, appBaggage].map((text) => {
        if (text === undefined) return -1;
        const { read, written } = encoder.encodeInto(text, new Uint8Array(api.memory().buffer, at, end - at));
        if (read < text.length) return -1;
        at += written;
        return written;
      });
      if (appBaggage !== undefined && lengths[3] < 0) baggage = false;
      const [session, user, account] = lengths.map((n) => Math.max(n, 0));
      const length = api.headersFor(propagators, sampled, trace, baggage, session, user, account, lengths[3]);
      return length ? decoder.decode(new Uint8Array(api.memory().buffer, api.output(), length)) : undefined;
    },
  };
}

/**
 * Starts the core. Answers `{ core }` once it runs, or `{ problem }` saying why it cannot, as the
 * one warning says it: what failed, and the fix. Where a browser refuses to compile
 * synchronously on the main thread (Chromium before 114, for modules over 4 KB), it compiles
 * asynchronously instead and answers `{ pending: true }`; `onLater(answer)` then gets the final
 * answer.
 */
export function startCore(onLater) {
  if (typeof WebAssembly !== 'object' || typeof WebAssembly.Module !== 'function') {
    return { problem: 'WebAssembly is not available (turned off in this browser?)' };
  }
  let bytes;
  let api;
  try {
    bytes = new Uint8Array(wasmText.length / 2);
    const nibble = (i) => NIBBLES.indexOf(wasmText[i]);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (nibble(2 * i) << 4) | nibble(2 * i + 1);
    api = glue();
    api.start(new WebAssembly.Instance(new WebAssembly.Module(bytes), api.imports));
    return { core: wrap(api) };
  } catch (error) {
    if (error instanceof RangeError && api) {
      WebAssembly.instantiate(bytes, api.imports).then(
        ({ instance }) => {
          api.start(instance);
          onLater({ core: wrap(api) });
        },
        (later) => onLater({ problem: failure(later) }),
      );
      return { pending: true };
    }
    return { problem: failure(error) };
  }
}

function failure(error) {
  return /unsafe-eval|Content.Security.Policy/i.test(String(error?.message ?? error))
    ? "this page's Content-Security-Policy does not allow WebAssembly: add 'wasm-unsafe-eval' to its script-src"
    : `WebAssembly failed (${error})`;
}
