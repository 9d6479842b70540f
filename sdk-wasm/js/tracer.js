// What one request gets: the `allowedTracingUrls` entry it matches, the session's sampling
// decision, the trace headers (trace.js) and the `baggage` value from the WebAssembly core.
// patch.js asks, in two steps, so that a request to a URL no entry matches costs a match and
// nothing more: `plan` before the app's headers are read, `headers` after.
import { debugLine } from './report.js';
import { isSampled } from './session.js';
import { traceHeaders } from './trace.js';

/**
 * The tracer of one SDK state `sdk` (`{ config, session, user, account, core, off }`, see index.js).
 */
export function tracer(sdk) {
  const say = (kind, url, why) => {
    if (sdk.config.debug) debugLine(`${kind} ${url}: ${why}`);
    return undefined;
  };
  return {
    /** `undefined` to leave the request untouched, or what `headers` needs. */
    plan(kind, url) {
      const { config } = sdk;
      const entry = config.entries.find((e) => e.test(url));
      if (!entry) return say(kind, url, 'no headers: no allowedTracingUrls entry matches');
      if (!sdk.core) return say(kind, url, `no headers: usertrail is off (${sdk.off})`);
      const sessionId = sdk.session.touch(Date.now());
      const sampled = isSampled(sessionId, config.sampleRate);
      if (!sampled && !config.injectAll) {
        return say(kind, url, `no headers: session not sampled (traceSampleRate ${config.sampleRate})`);
      }
      return { kind, url, entry, sessionId, sampled };
    },

    /** The headers for a planned request as `[name, value, …]`, or `undefined` for none. */
    headers(plan, appHasTraceparent, appBaggage) {
      const { config } = sdk;
      const kept = appHasTraceparent ? "the app's own traceparent kept, " : '';
      if (appHasTraceparent && !config.baggage) return say(plan.kind, plan.url, `${kept}nothing added`);
      const headers = appHasTraceparent ? [] : traceHeaders(plan.entry.propagators, plan.sampled);
      if (config.baggage) {
        const baggage = sdk.core.baggage(plan.sessionId, sdk.user.id, sdk.account.id, appBaggage);
        if (baggage !== undefined) headers.push('baggage', baggage);
      }
      if (config.debug) {
        const names = headers.filter((_, i) => i % 2 === 0).join(', ') || 'nothing';
        say(plan.kind, plan.url, `${kept}added ${names}${plan.sampled ? '' : ' (not sampled)'}`);
      }
      return headers.length ? headers : undefined;
    },

    /** User activity (a click, a key, a scroll) keeps the session alive. */
    activity() {
      sdk.session.touch(Date.now());
    },
  };
}
