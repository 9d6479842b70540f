// Nothing for usertrail here. The root is set only because this test app sits inside the
// repository, where Next.js would otherwise guess the workspace root from the lock files above.
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

export default {
  turbopack: { root },
  outputFileTracingRoot: root,
};
