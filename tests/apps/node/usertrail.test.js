// A unit test of an app that uses the SDK, run by Vitest in Node.
import { expect, test } from 'vitest';
import * as sdk from 'usertrail';

import { callEveryExport } from './calls.js';

test('the SDK loads in Node and every export answers without throwing or printing', () => {
  expect(callEveryExport(sdk)).toEqual({ getUser: {}, getAccount: {}, getSessionId: null, viaObject: {} });
});
