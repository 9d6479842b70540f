// usertrail as an app uses it: init, then who is signed in.
import { init, setAccount, setUser } from 'usertrail';

const tracingUrl = globalThis.BENCH_TRACING_URL ?? 'https://api.example.com';
init({ allowedTracingUrls: [tracingUrl], propagateTraceBaggage: true });
setUser({ id: 'user_123', name: 'Ada' });
setAccount({ id: 'account_456' });
globalThis.benchFetch = (input, init) => fetch(input, init);
