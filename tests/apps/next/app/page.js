// A server component: rendered by `next build` (prerendering) and `next start`. It imports the
// SDK too: on the server every function is a silent no-op.
import { getUser } from 'usertrail';

import Checkout from './checkout';

export default function Page() {
  return (
    <main>
      <p id="server-user">{JSON.stringify(getUser())}</p>
      <Checkout />
    </main>
  );
}
