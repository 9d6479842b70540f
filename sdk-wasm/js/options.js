// `init(options)`: the Datadog browser RUM option names and defaults, checked and turned into the
// configuration the rest of the SDK reads. Never throws; every unknown or ill-typed option gets
// one warning and its default.
import { urlTest } from './match.js';
import { warn, warnOnce } from './report.js';
import { PROPAGATORS } from './trace.js';

/** Used when an entry does not name its own: Datadog's default, tracecontext and datadog. */
const DEFAULT_PROPAGATORS = 0b11;

/**
 * Options of Datadog's browser RUM SDK that usertrail has no use for: accepted silently, so an
 * existing `datadogRum.init({...})` call works unchanged.
 */
const DATADOG_ONLY = new Set(
  (
    'actionNameAttribute allowFallbackToLocalStorage allowUntrustedEvents allowedTrackingOrigins ' +
    'applicationId beforeSend clientToken compressIntakeRequests datacenter defaultPrivacyLevel ' +
    'enableExperimentalFeatures enablePrivacyForActionName excludedActivityUrls plugins ' +
    'premiumSampleRate profilingSampleRate proxy remoteConfigurationId replaySampleRate ' +
    'sessionReplaySampleRate sessionSampleRate silentMultipleInit site ' +
    'startSessionReplayRecordingManually storeContextsAcrossPages subdomain ' +
    'telemetryConfigurationSampleRate telemetrySampleRate telemetryUsageSampleRate ' +
    'trackAnonymousUser trackBfcacheViews trackEarlyRequests trackFeatureFlagsForEvents ' +
    'trackLongTasks trackResources trackSessionAcrossSubdomains trackUserInteractions ' +
    'trackViewsManually trackingConsent usePartitionedCrossSiteSessionCookie usePciIntake ' +
    'useSecureSessionCookie workerUrl'
  ).split(' '),
);

function illTyped(name, expected, value) {
  warn(`${name} must be ${expected}; ignored:`, value);
}

/**
 * The configuration `options` asks for:
 * `{ entries: [{ test(url), propagators }], sampleRate, injectAll, baggage, memorySession, debug }`.
 */
export function readOptions(options) {
  const config = {
    entries: [],
    sampleRate: 100,
    injectAll: false,
    baggage: false,
    memorySession: false,
    debug: false,
  };
  if (options === undefined) return config;
  if (options === null || typeof options !== 'object') {
    illTyped('init options', 'an object', options);
    return config;
  }
  for (const name of Object.keys(options)) {
    const value = options[name];
    if (value === undefined) continue;
    switch (name) {
      case 'allowedTracingUrls':
        config.entries = tracingUrls(value);
        break;
      case 'traceSampleRate':
        if (typeof value === 'number' && value >= 0 && value <= 100) config.sampleRate = value;
        else illTyped(name, 'a number from 0 to 100', value);
        break;
      case 'traceContextInjection':
        if (value === 'sampled' || value === 'all') config.injectAll = value === 'all';
        else illTyped(name, "'sampled' or 'all'", value);
        break;
      case 'propagateTraceBaggage':
      case 'debug':
        if (typeof value === 'boolean') config[name === 'debug' ? 'debug' : 'baggage'] = value;
        else illTyped(name, 'a boolean', value);
        break;
      case 'sessionPersistence':
        // Datadog's 'cookie' too is ill-typed here: the session is kept in local-storage then.
        if (value === 'local-storage' || value === 'memory') config.memorySession = value === 'memory';
        else illTyped(name, "'local-storage' or 'memory'", value);
        break;
      case 'service':
      case 'env':
      case 'version':
        if (typeof value !== 'string') illTyped(name, 'a string', value);
        break;
      default:
        if (!DATADOG_ONLY.has(name)) warn(`unknown init option '${name}' ignored`);
    }
  }
  return config;
}

const matcherThrew = () => warnOnce('matcher', 'an allowedTracingUrls function threw; treated as no match');

function tracingUrls(value) {
  if (!Array.isArray(value)) {
    illTyped('allowedTracingUrls', 'an array', value);
    return [];
  }
  const entries = [];
  for (const entry of value) {
    let test = urlTest(entry, matcherThrew);
    let propagators = DEFAULT_PROPAGATORS;
    if (!test && entry !== null && typeof entry === 'object') {
      test = urlTest(entry.match, matcherThrew);
      propagators = propagatorTypes(entry.propagatorTypes);
    }
    if (test) entries.push({ test, propagators });
    else illTyped('an allowedTracingUrls entry', 'a URL prefix, a RegExp, a function or { match, propagatorTypes }', entry);
  }
  return entries;
}

function propagatorTypes(value) {
  if (value === undefined) return DEFAULT_PROPAGATORS;
  if (!Array.isArray(value)) {
    illTyped('propagatorTypes', 'an array of names', value);
    return DEFAULT_PROPAGATORS;
  }
  let bits = 0;
  for (const name of value) {
    const bit = PROPAGATORS.indexOf(name);
    if (bit >= 0) bits |= 1 << bit;
    else illTyped('a propagator type', PROPAGATORS.join(', '), name);
  }
  return bits;
}
