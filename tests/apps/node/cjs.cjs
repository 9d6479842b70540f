// CommonJS code (Jest's default, older servers) that requires the SDK.
const sdk = require('usertrail');

import('./calls.js').then(({ callEveryExport }) => console.log(JSON.stringify(callEveryExport(sdk))));
