// Server-side code that imports the SDK (a server render, a script): it must load and be inert.
import * as sdk from 'usertrail';

import { callEveryExport } from './calls.js';

console.log(JSON.stringify(callEveryExport(sdk)));
