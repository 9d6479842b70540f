// Baseline: no SDK at all.
globalThis.benchFetch = (input, init) => fetch(input, init);
