// The WebAssembly core (sdk-wasm/src): started once, by the first `init()`, from the bytes inside
// usertrail_wasm.js. Synchronously, so a request made right after `init()` returns already gets
// its headers; the SDK never fetches anything to start.
//
// The core takes numbers and bytes (see sdk-wasm/src/lib.rs): this file writes text into its
// memory as UTF-8 and reads the `baggage` value back.
import { NIBBLES, glue, wasmText } from './usertrail_wasm.js';

/** The core's function over JavaScript strings, for `api`, a started glue (usertrail_wasm.js). */
function wrap(api) {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const start = api.input();
  const end = start + api.inputBytes();
  let view; // of the module's memory; made again when the memory grows
  const memory = () => (view?.buffer === api.memory().buffer ? view : (view = new Uint8Array(api.memory().buffer)));
  /** Writes `text` as UTF-8 at `at`: its length, or -1 when it does not fit. */
  const write = (text, at) => {
    const { read, written } = encoder.encodeInto(text, memory().subarray(at, end));
    return read < text.length ? -1 : written;
  };
  let ids = [];
  let idsEnd = start;
  let own; // the value without an app header, for `ids`
  const read = (header) => {
    const length = api.baggageFor(header);
    return length ? decoder.decode(memory().subarray(api.output(), api.output() + length)) : undefined;
  };
  return {
    /**
     * The `baggage` value for one request: the ids (`user` and `account` `undefined` when not
     * set) merged into the app's own header `appBaggage` (`undefined` when it set none), or
     * `undefined` when there is nothing to send.
     */
    baggage(session, user, account, appBaggage) {
      if (session !== ids[0] || user !== ids[1] || account !== ids[2]) {
        // Written once per change, not per request; an id that does not fit is left out.
        let at = start;
        const lengths = [session, user, account].map((id) => {
          const length = id === undefined ? 0 : Math.max(write(id, at), 0);
          at += length;
          return length;
        });
        api.identify(...lengths);
        idsEnd = at;
        own = read(-1);
        // Last: after a failure above, the next request writes them again, never sending the
        // value of the ids before.
        ids = [session, user, account];
      }
      if (appBaggage === undefined) return own;
      const header = write(appBaggage, idsEnd);
      // Too long to pass in: the app's header stays as it is, without our members.
      return header < 0 ? undefined : read(header);
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
