// What a user of the npm package writes: a bare import, bundled by esbuild.
import { getSessionId, usertrail } from 'usertrail';

window.consumerResult = { sessionId: getSessionId(), viaObject: usertrail.getSessionId() };
