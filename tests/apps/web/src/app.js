// What a user of the npm package writes: a bare import, bundled by each tool the tests build
// it with (tests/e2e/bundlers.test.mjs). Requests go out at once after init().
import { getSessionId, init, setAccount, setUser, usertrail } from 'usertrail';

const api = new URL(location.href).searchParams.get('api');
init({ allowedTracingUrls: [api], propagateTraceBaggage: true });
setUser({ id: 'user_123' });
setAccount({ id: 'account_456' });

const xhr = new XMLHttpRequest();
xhr.open('GET', `${api}/xhr`);
const xhrDone = new Promise((resolve) => (xhr.onloadend = () => resolve(xhr.responseText)));
xhr.send();

Promise.all([fetch(`${api}/orders`, { method: 'POST', body: '{}' }).then((response) => response.text()), xhrDone]).then(
  ([reply, xhrReply]) => {
    window.appResult = { reply, xhrReply, sessionId: getSessionId(), viaObject: usertrail.getSessionId() };
  },
  (error) => {
    window.appResult = { error: String(error) };
  },
);
