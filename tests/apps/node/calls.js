// Every export called as a browser app would call it; returns what each one answered. Shared by
// the ESM, CommonJS and Vitest entries of this app.
function callEveryExport(sdk) {
  sdk.init({ allowedTracingUrls: ['http://127.0.0.1:9'], propagateTraceBaggage: true, debug: true, nonsense: 1 });
  sdk.setUser({ id: 'user_123' });
  sdk.setUser('not an object');
  sdk.setAccount({ id: 'account_456' });
  sdk.setUserProperty('plan', 'pro');
  sdk.setAccountProperty('tier', 'gold');
  sdk.removeUserProperty('plan');
  sdk.removeAccountProperty('tier');
  const answers = {
    getUser: sdk.getUser(),
    getAccount: sdk.getAccount(),
    getSessionId: sdk.getSessionId() ?? null,
    viaObject: sdk.usertrail.getUser(),
  };
  sdk.clearUser();
  sdk.clearAccount();
  sdk.stopSession();
  return answers;
}

export { callEveryExport };
