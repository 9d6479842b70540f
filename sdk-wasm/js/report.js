// Everything the SDK prints, in one place: every message starts with `usertrail:`, and printing
// never throws (an app may have replaced `console`, or a test may have stubbed it).

/** Prints `usertrail: <message>` as a console warning, followed by `values` as the browser shows them. */
export function warn(message, ...values) {
  try {
    console.warn(`usertrail: ${message}`, ...values);
  } catch {}
}

const warned = new Set();

/** `warn`, once per `key` for the life of the page. */
export function warnOnce(key, message, ...values) {
  if (warned.has(key)) return;
  warned.add(key);
  warn(message, ...values);
}

/** An unexpected failure inside the SDK: the request goes out untouched; said once. */
export function internalError(error) {
  warnOnce('internal', 'internal error; requests go out without usertrail headers', error);
}

/** The `debug: true` log: one line per request, saying why it got headers or not. */
export function debugLine(message) {
  try {
    console.info(`usertrail: ${message}`);
  } catch {}
}
