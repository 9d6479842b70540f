// The WebAssembly core (sdk-wasm/src): started once, by the first `init()`, from the bytes inside
// usertrail_wasm.js. Synchronously, so a request made right after `init()` returns already gets
// its headers; the SDK never fetches anything to start.
//
// The core takes numbers and bytes (see sdk-wasm/src/lib.rs): this file writes text into its
// memory as UTF-8 and reads the header lines back.
import { glue, wasmHex } from './usertrail_wasm.js';

/** The core's functions over JavaScript strings, for `api`, a started glue (usertrail_wasm.js). */
function wrap(api) {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  /** Writes `texts` back to back into the core's input buffer; their UTF-8 lengths. */
  const write = (texts) => {
    let room = 0;
    for (const text of texts) room += text.length * 3; // UTF-8 is at most 3 bytes per UTF-16 unit
    let at = api.input(room);
    return texts.map((text) => {
      const { written } = encoder.encodeInto(text, new Uint8Array(api.memory().buffer, at, text.length * 3));
      at += written;
      return written;
    });
  };
  return {
    /** Tells the core whose requests these are; `user` and `account` may be `undefined`. */
    identify(session, user, account) {
      api.identify(...write([session, user ?? '', account ?? '']));
    },
    /** The header lines (`name\nvalue\n…`) for one matched request, or `undefined`. */
    headersFor(propagators, sampled, trace, baggage, appBaggage) {
      const length = api.headersFor(propagators, sampled, trace, baggage, appBaggage === undefined ? -1 : write([appBaggage])[0]);
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
    return { problem: 'WebAssembly is not available here (turned off by a browser policy or setting?)' };
  }
  let bytes;
  let api;
  try {
    bytes = new Uint8Array(wasmHex.length / 2);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(wasmHex.substr(i * 2, 2), 16);
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
    : `its WebAssembly module did not start (${error})`;
}
