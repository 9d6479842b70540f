// Sentry's browser SDK with tracing: the trace headers on requests to the same URLs, and the user.
// Sentry has no account: the closest is a tag.
import * as Sentry from '@sentry/browser';

const tracingUrl = globalThis.BENCH_TRACING_URL ?? 'https://api.example.com';
Sentry.init({
  dsn: 'https://00000000000000000000000000000000@o0.ingest.sentry.io/0',
  integrations: [Sentry.browserTracingIntegration()],
  tracesSampleRate: 1.0,
  tracePropagationTargets: [tracingUrl],
  // The benchmark page sends nothing anywhere: every envelope is dropped here.
  transport: () => ({ send: async () => ({}), flush: async () => true }),
});
Sentry.setUser({ id: 'user_123', username: 'Ada' });
Sentry.setTag('account.id', 'account_456');
globalThis.benchFetch = (input, init) => fetch(input, init);
