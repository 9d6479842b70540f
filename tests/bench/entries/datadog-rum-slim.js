// Datadog browser RUM slim (no session replay) with the same settings: tracing, baggage, user and account.
import { datadogRum } from '@datadog/browser-rum-slim';

const tracingUrl = globalThis.BENCH_TRACING_URL ?? 'https://api.example.com';
datadogRum.init({
  applicationId: '00000000-0000-0000-0000-000000000000',
  clientToken: 'pub00000000000000000000000000000000',
  site: 'datadoghq.com',
  service: 'bench',
  sessionSampleRate: 100,
  allowedTracingUrls: [tracingUrl],
  propagateTraceBaggage: true,
  // The benchmark page sends the RUM intake to its own origin: nothing leaves the machine.
  ...(globalThis.BENCH_DD_PROXY ? { proxy: globalThis.BENCH_DD_PROXY } : {}),
});
datadogRum.setUser({ id: 'user_123', name: 'Ada' });
datadogRum.setAccount({ id: 'account_456' });
globalThis.benchFetch = (input, init) => fetch(input, init);
