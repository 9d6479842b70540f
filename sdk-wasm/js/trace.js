// The trace headers of a trace that starts in the browser: fresh random ids, written in each
// format an `allowedTracingUrls` entry asks for.
//
// In JavaScript, not in the WebAssembly core: the values are ids in hex or decimal around fixed
// text, a few string concatenations here, while text made in WebAssembly costs a `TextDecoder`
// call, and the garbage of the strings it makes, on every request (measured: about 2 µs of the
// request in Chromium, against 0.3 µs here). The servers read these headers with
// usertrail-propagator; tests/e2e/sdk-propagation.test.mjs checks them against its formats.

/** Propagator names, in the order `propagators` numbers them: bit i is PROPAGATORS[i]. */
export const PROPAGATORS = ['tracecontext', 'datadog', 'b3', 'b3multi'];

/** Two hex digits of each byte value. */
const HEX = Array.from({ length: 256 }, (_, i) => (i | 256).toString(16).slice(1));

/**
 * Random bytes, fetched from `crypto.getRandomValues` 42 requests at a time (a call costs about
 * 1.5 µs in Chromium) and handed out once each: bytes before `next` are used.
 */
const pool = new Uint8Array(1008);
let next = pool.length;

/** The offset of `count` fresh random bytes in the pool. */
function take(count) {
  if (next + count > pool.length) {
    crypto.getRandomValues(pool);
    next = 0;
  }
  next += count;
  return next - count;
}

/** The pool's `count` bytes at `at` in hex. */
function hex(at, count) {
  let text = '';
  for (let i = at; i < at + count; i++) text += HEX[pool[i]];
  return text;
}

/** The pool's 4 bytes at `at` as a big-endian unsigned 32-bit number. */
const word = (at) => ((pool[at] << 24) | (pool[at + 1] << 16) | (pool[at + 2] << 8) | pool[at + 3]) >>> 0;

/**
 * The decimal text of the unsigned 64-bit number `high * 2^32 + low`, exact without `BigInt`
 * (slower): with 2^32 = 42949 * 10^5 + 67296 every intermediate value stays below 2^53, and the
 * digits are written in parts below 2^31, which V8 turns into text fastest.
 */
export function decimal(high, low) {
  const under = high * 67296 + low;
  const top = high * 42949 + Math.floor(under / 1e5);
  const rest = under % 1e5;
  if (!top) return String(rest);
  const first = Math.floor(top / 1e7);
  const five = String(rest + 1e5).slice(1);
  return first ? first + String((top % 1e7) + 1e7).slice(1) + five : top + five;
}

const ZERO = '0000000000000000';

/**
 * The headers of a new trace as `[name, value, name, value, …]`, for the propagator bits
 * `propagators` (see PROPAGATORS), in that order: one random 128-bit trace id and 64-bit span
 * id shared by all. `sampled`: the sampled flag and the Datadog priority (1, else 0).
 *
 * - tracecontext: `traceparent` with the Level 2 `random` flag (the whole trace id is random),
 *   and `tracestate: dd=s:<priority>;o:rum`, as Datadog's browser SDK sends;
 * - datadog: the low 64 bits of the trace id and the span id in decimal, the priority, the
 *   origin `rum`, and the high 64 bits in `x-datadog-tags` (`_dd.p.tid`);
 * - b3: `b3: <trace>-<span>-<1|0>`; b3multi: `x-b3-traceid`, `x-b3-spanid`, `x-b3-sampled`.
 */
export function traceHeaders(propagators, sampled) {
  const at = take(24); // the trace id, then the span id
  const trace = hex(at, 16);
  const span = hex(at + 16, 8);
  const headers = [];
  // A zero id is invalid in every format: no trace headers (never happens with 192 random bits).
  if (trace === ZERO + ZERO || span === ZERO) return headers;
  const priority = sampled ? '1' : '0';
  if (propagators & 1) {
    headers.push('traceparent', `00-${trace}-${span}-0${sampled ? 3 : 2}`, 'tracestate', `dd=s:${priority};o:rum`);
  }
  if (propagators & 2) {
    const high = trace.slice(0, 16);
    headers.push(
      'x-datadog-trace-id',
      decimal(word(at + 8), word(at + 12)),
      'x-datadog-parent-id',
      decimal(word(at + 16), word(at + 20)),
      'x-datadog-sampling-priority',
      priority,
      'x-datadog-origin',
      'rum',
    );
    if (high !== ZERO) headers.push('x-datadog-tags', `_dd.p.tid=${high}`);
  }
  if (propagators & 4) headers.push('b3', `${trace}-${span}-${priority}`);
  if (propagators & 8) headers.push('x-b3-traceid', trace, 'x-b3-spanid', span, 'x-b3-sampled', priority);
  return headers;
}
