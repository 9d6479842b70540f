// usertrail's browser payload alone, by part: `node tests/bench/size-quick.mjs` after
// scripts/build. The same entry and bundling as `npm run bench` (size.mjs), without the peers.
import { printUsertrailParts } from './parts.mjs';
import { printTable } from './size.mjs';

await printUsertrailParts(printTable);
