/** Matches a request URL: a URL prefix (ending at a URL boundary), a RegExp, or a function. */
export type MatchOption = string | RegExp | ((url: string) => boolean);

/** The header formats a request can carry. */
export type PropagatorType = 'tracecontext' | 'datadog' | 'b3' | 'b3multi';

/** An `allowedTracingUrls` entry. Plain matchers use `['tracecontext', 'datadog']`. */
export type TracingOption = MatchOption | { match: MatchOption; propagatorTypes?: PropagatorType[] };

/** `init` options: the names and defaults of Datadog's browser RUM SDK. */
export interface InitOptions {
  /** Requests to these URLs get tracing headers (and identity, with `propagateTraceBaggage`). */
  allowedTracingUrls?: TracingOption[];
  /** Percent of sessions whose requests are traced, 0 to 100. Default 100. */
  traceSampleRate?: number;
  /** `'sampled'` (default): unsampled requests get no headers. `'all'`: they get them, sampled off. */
  traceContextInjection?: 'sampled' | 'all';
  /** Send `session.id`, `user.id` and `account.id` in a W3C `baggage` header. Default **false**. */
  propagateTraceBaggage?: boolean;
  /** Where the session lives. Default `'local-storage'` (shared by the tabs of the origin). */
  sessionPersistence?: 'local-storage' | 'memory';
  /** Log, per request, why it got headers or not (`console.info`). Default false. */
  debug?: boolean;
  service?: string;
  env?: string;
  version?: string;
  /** Datadog-only options (`applicationId`, `clientToken`, `site`, …) are accepted and ignored. */
  [datadogOnlyOption: string]: unknown;
}

/** A user or an account: a required `id` plus any fields. */
export interface Context {
  id: string | number;
  name?: string;
  email?: string;
  [key: string]: unknown;
}

/** The stored user or account, as the getters return it (the id converted to a string). */
export interface StoredContext {
  id?: string;
  [key: string]: unknown;
}

/** Starts the SDK and patches `fetch` and `XMLHttpRequest`. A second call warns and does nothing. */
export function init(options?: InitOptions): void;
/** Sets the user; `user.id` is required. */
export function setUser(user: Context): void;
/** A copy of the user, `{}` when none is set. */
export function getUser(): StoredContext;
export function setUserProperty(key: string, value: unknown): void;
export function removeUserProperty(key: string): void;
export function clearUser(): void;
/** Sets the account; `account.id` is required. */
export function setAccount(account: Context): void;
/** A copy of the account, `{}` when none is set. */
export function getAccount(): StoredContext;
export function setAccountProperty(key: string, value: unknown): void;
export function removeAccountProperty(key: string): void;
export function clearAccount(): void;
/** The current session id (a UUID v4). */
export function getSessionId(): string | undefined;
/** Ends the session; the next request starts a new one. */
export function stopSession(): void;

/** Every function of the SDK on one object. */
export declare const usertrail: Readonly<{
  init: typeof init;
  setUser: typeof setUser;
  getUser: typeof getUser;
  setUserProperty: typeof setUserProperty;
  removeUserProperty: typeof removeUserProperty;
  clearUser: typeof clearUser;
  setAccount: typeof setAccount;
  getAccount: typeof getAccount;
  setAccountProperty: typeof setAccountProperty;
  removeAccountProperty: typeof removeAccountProperty;
  clearAccount: typeof clearAccount;
  getSessionId: typeof getSessionId;
  stopSession: typeof stopSession;
}>;
