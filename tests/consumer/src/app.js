// What a user of the npm package writes: a bare import, bundled by esbuild.
import { getSessionId, init, setAccount, setUser, usertrail } from 'usertrail';

const api = new URL(location.href).searchParams.get('api');
init({ allowedTracingUrls: [api], propagateTraceBaggage: true });
setUser({ id: 'user_123' });
setAccount({ id: 'account_456' });

window.consumerResult = fetch(`${api}/orders`, { method: 'POST', body: '{}' })
  .then((response) => response.text())
  .then((reply) => ({ reply, sessionId: getSessionId(), viaObject: usertrail.getSessionId() }));
