// OpenTelemetry web: a tracer provider, the fetch instrumentation, W3C trace context and
// baggage propagators. OTel has no user or account API: the closest is baggage on a context,
// which the app must make active around each request (no zone.js here).
import { context, propagation } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { FetchInstrumentation } from '@opentelemetry/instrumentation-fetch';
import { WebTracerProvider } from '@opentelemetry/sdk-trace-web';

const tracingUrl = globalThis.BENCH_TRACING_URL ?? 'https://api.example.com';
const escaped = tracingUrl.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const provider = new WebTracerProvider();
provider.register({
  propagator: new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
});
registerInstrumentations({
  instrumentations: [new FetchInstrumentation({ propagateTraceHeaderCorsUrls: [new RegExp(`^${escaped}`)] })],
});
const identity = propagation.setBaggage(
  context.active(),
  propagation.createBaggage({ 'user.id': { value: 'user_123' }, 'account.id': { value: 'account_456' } }),
);
globalThis.benchFetch = (input, init) => context.with(identity, () => fetch(input, init));
