// The trace explorer: a search box over the span store, who was hit, group-by with
// percentiles, the matching spans, and a trace waterfall. Plain DOM, inline SVG.
const $ = (id) => document.getElementById(id);
const escape = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const IDENTITY = ['usr.id', 'account.id', 'session.id'];
// The remap says where each identity value came from (`<key>.source`): the service itself, or
// the browser's baggage, which the service did not check.
const fromBaggage = (s, key) =>
  s.tags[`${key}.source`] === 'baggage'
    ? ` <span class="muted small" title="from the browser's baggage: not checked by the service (filter: @${key}.source:service)">baggage</span>`
    : '';

const params = new URLSearchParams(location.search);
const state = {
  q: params.has('q') ? params.get('q') : 'status:error',
  by: params.get('by') ?? 'usr.id',
  entry: params.get('entry') !== '0',
  trace: params.get('trace'),
  // `usr.id:user_123`: whose activity is open.
  activity: params.get('activity'),
  // `15m`, `1h`, `24h`, `7d` before now, or `custom` with `from`/`to` (ms since the epoch).
  range: params.get('from') || params.get('to') ? 'custom' : (params.get('range') ?? '1h'),
  from: params.get('from'),
  to: params.get('to'),
  // `monitors`: the Monitors view instead of the explorer's.
  view: params.get('view') === 'monitors' ? 'monitors' : 'explore',
  // The monitor whose detail is open.
  monitor: params.get('monitor'),
};

/// The time range of every API call.
function timeParams() {
  if (state.range !== 'custom') return { range: state.range };
  const out = {};
  if (state.from) out.from = state.from;
  if (state.to) out.to = state.to;
  return out;
}

// ---- formatting -----------------------------------------------------------------------------

function duration(ns) {
  if (ns >= 60e9) return `${(ns / 60e9).toFixed(1)} min`;
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(2)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(ns >= 1e8 ? 0 : 1)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(0)} µs`;
  return `${ns} ns`;
}
const pct = (x) => `${(x * 100).toFixed(x > 0 && x < 0.1 ? 1 : 0)}%`;
const num = (n) => Number(n).toLocaleString('en-US');
function ago(ns) {
  const s = Math.max(0, (Date.now() - ns / 1e6) / 1000);
  if (s < 60) return `${Math.round(s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}
const time = (ns) => new Date(ns / 1e6).toLocaleTimeString();
const svc = (name) => `<span class="svc ${escape(name)}">${escape(name)}</span>`;
const statusPill = (s) =>
  s.error
    ? `<span class="pill err">error${s.status_code ? ` ${s.status_code}` : ''}</span>`
    : `<span class="pill ok">ok${s.status_code ? ` ${s.status_code}` : ''}</span>`;
// A user, account or session: opens their activity.
const who = (key, value) =>
  value == null || value === ''
    ? '<span class="muted">—</span>'
    : `<a href="#" class="who" data-who-key="${escape(key)}" data-who-value="${escape(value)}" title="${escape(key)} ${escape(value)}: their activity"><code>${escape(value)}</code></a>`;
const quote = (v) => (/^[\w.\-/:@]+$/.test(v) ? v : `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`);

// ---- API --------------------------------------------------------------------------------------

async function api(path, query = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries({ ...timeParams(), ...query })) url.searchParams.set(k, v);
  const res = await fetch(url);
  const body = await res.json();
  if (!res.ok) throw Object.assign(new Error(body.error?.message ?? res.statusText), { body: body.error });
  return body;
}

// ---- search -----------------------------------------------------------------------------------

function syncUrl() {
  const p = new URLSearchParams();
  p.set('q', state.q);
  if (state.by !== 'usr.id') p.set('by', state.by);
  if (!state.entry) p.set('entry', '0');
  if (state.range === 'custom') {
    if (state.from) p.set('from', state.from);
    if (state.to) p.set('to', state.to);
  } else p.set('range', state.range);
  if (state.trace) p.set('trace', state.trace);
  if (state.activity) p.set('activity', state.activity);
  if (state.view === 'monitors') p.set('view', 'monitors');
  if (state.monitor) p.set('monitor', state.monitor);
  history.replaceState(null, '', `?${p}`);
}

function showParseError(error) {
  if (!error) {
    $('parse-error').innerHTML = '';
    return;
  }
  const pos = error.position ?? 0;
  $('parse-error').innerHTML = `<div class="parse-error">${escape(state.q)}\n${' '.repeat(pos)}^ ${escape(error.message)} (character ${pos + 1})</div>`;
}

let generation = 0;
async function search(q = state.q) {
  state.q = q;
  $('q').value = q;
  syncUrl();
  const mine = ++generation;
  const base = { q, entry: state.entry ? '1' : '0' };
  $('impact-q').textContent = q || '(everything)';
  $('analysis-q').textContent = q || '(everything)';
  $('errors-q').textContent = q || '(everything)';
  const [impact, groups, spans, analysis, errors] = await Promise.allSettled([
    api('/api/impact', base),
    api('/api/groupby', { ...base, by: state.by }),
    api('/api/search', { ...base, limit: 50 }),
    api('/api/analysis', analysisParams(base)),
    api('/api/errors', { q, entry: '0', limit: 20 }),
  ]);
  if (mine !== generation) return;
  const failed = [impact, groups, spans].find((r) => r.status === 'rejected');
  if (failed && failed.reason.body?.position !== undefined) {
    showParseError(failed.reason.body);
    for (const id of ['impact', 'groupby', 'spans', 'analysis', 'errors']) $(id).innerHTML = '<div class="empty">Fix the query above.</div>';
    $('spans-summary').textContent = '';
    return;
  }
  showParseError(null);
  const show = (r, render, id) =>
    r.status === 'fulfilled' ? render(r.value) : ($(id).innerHTML = `<div class="err-text">${escape(r.reason.message)}</div>`);
  show(impact, renderImpact, 'impact');
  show(groups, renderGroups, 'groupby');
  show(spans, renderSpans, 'spans');
  show(analysis, renderAnalysis, 'analysis');
  show(errors, renderErrors, 'errors');
  // What the views show now (for a person's tools and the tests: the views render at once).
  document.body.dataset.shown = q;
}

function entryHint(count) {
  return count === 0 && state.entry
    ? ' Child spans (like <code>fraud.check</code>) are not service entry spans: untick “service entry spans only” to search them too.'
    : '';
}

// ---- impacted users ---------------------------------------------------------------------------

function renderImpact(d) {
  if (d.traces === 0) {
    $('impact').innerHTML = `<div class="empty">No span matches this query, so nobody was hit.${entryHint(0)}</div>`;
    return;
  }
  const anon = d.anonymous_traces ? `, ${num(d.anonymous_traces)} of them without a signed-in user` : '';
  const users = d.users
    .map(
      (u) => `<tr>
        <td>${who('usr.id', u.usr_id)}</td>
        <td>${who('account.id', u.account_id)}</td>
        <td>${u.role ? `<span class="pill">${escape(u.role)}</span>` : '<span class="muted">—</span>'}</td>
        <td class="num">${num(u.traces)}</td>
        <td class="num">${num(u.sessions)}</td>
        <td title="${escape(new Date(u.last_seen_ns / 1e6).toLocaleString())}">${ago(u.last_seen_ns)}</td>
        <td><button data-user="${escape(u.usr_id)}">their spans</button></td></tr>`,
    )
    .join('');
  const accounts = d.accounts
    .map(
      (a) => `<tr><td>${who('account.id', a.account_id)}</td><td class="num">${num(a.users)}</td><td class="num">${num(a.traces)}</td>
        <td><button data-account="${escape(a.account_id)}">its spans</button></td></tr>`,
    )
    .join('');
  const more = (shown, all, what) => (all > shown ? `<p class="small muted">Showing ${shown} of ${num(all)} ${what}.</p>` : '');
  $('impact').innerHTML = `
    <p class="headline" id="impact-headline"><strong class="${d.user_count ? 'err-text' : ''}">${num(d.user_count)} user${d.user_count === 1 ? '' : 's'}</strong>
      on <strong>${num(d.account_count)} account${d.account_count === 1 ? '' : 's'}</strong> hit,
      in ${num(d.traces)} trace${d.traces === 1 ? '' : 's'}${anon} (${num(d.spans)} matching span${d.spans === 1 ? '' : 's'}).</p>
    <div class="grid-impact">
      <div><h3>Users</h3>${
        users
          ? `<table id="impact-users"><tr><th>usr.id</th><th>account.id</th><th>usr.role</th><th class="num">traces hit</th><th class="num">sessions</th><th>last hit</th><th></th></tr>${users}</table>${more(d.users.length, d.user_count, 'users')}`
          : '<div class="empty">None signed in.</div>'
      }</div>
      <div><h3>Accounts</h3>${
        accounts
          ? `<table id="impact-accounts"><tr><th>account.id</th><th class="num">users hit</th><th class="num">traces hit</th><th></th></tr>${accounts}</table>${more(d.accounts.length, d.account_count, 'accounts')}`
          : '<div class="empty">None.</div>'
      }</div>
    </div>`;
  for (const b of $('impact').querySelectorAll('[data-user]')) {
    b.addEventListener('click', () => search(`@usr.id:${quote(b.dataset.user)} ${state.q}`.trim()));
  }
  for (const b of $('impact').querySelectorAll('[data-account]')) {
    b.addEventListener('click', () => search(`@account.id:${quote(b.dataset.account)} ${state.q}`.trim()));
  }
}

// ---- endpoints --------------------------------------------------------------------------------

function slowThreshold(p99) {
  for (const [label, ns] of [['5s', 5e9], ['2s', 2e9], ['1s', 1e9], ['500ms', 5e8]]) if (p99 >= ns) return label;
  return null;
}

async function loadEndpoints() {
  let d;
  try {
    d = await api('/api/endpoints');
  } catch (e) {
    $('endpoints').innerHTML = `<div class="err-text">${escape(e.message)}</div>`;
    return;
  }
  if (d.endpoints.length === 0) {
    $('endpoints').innerHTML =
      '<div class="empty">No requests yet. Open the <a href="/" target="_blank">shop</a> and check out, or run <code>npm run demo:traffic</code>.</div>';
    return;
  }
  $('endpoints').innerHTML = `<table id="endpoints-table"><tr><th>service</th><th>endpoint</th><th class="num">requests</th><th class="num">errors</th>
      <th class="num">error rate</th><th class="num">p50</th><th class="num">p95</th><th class="num">p99</th><th>who was hit?</th></tr>
    ${d.endpoints
      .map((e, i) => {
        const slow = slowThreshold(e.p99_ns);
        return `<tr><td>${svc(e.service)}</td><td><code>${escape(e.resource)}</code></td>
          <td class="num">${num(e.count)}</td><td class="num ${e.errors ? 'err-text' : ''}">${num(e.errors)}</td>
          <td class="num ${e.errors ? 'err-text' : ''}">${pct(e.error_rate)}</td>
          <td class="num">${duration(e.p50_ns)}</td><td class="num">${duration(e.p95_ns)}</td>
          <td class="num ${slow ? 'warn-text' : ''}">${duration(e.p99_ns)}</td>
          <td>${e.errors ? `<button class="danger" data-errors="${i}">errors →</button>` : ''}
              ${slow ? `<button class="slow" data-slow="${i}" data-threshold="${slow}">slower than ${slow} →</button>` : ''}</td></tr>`;
      })
      .join('')}</table>`;
  const scope = (e) => `service:${quote(e.service)} resource:${quote(e.resource)}`;
  for (const b of $('endpoints').querySelectorAll('[data-errors]')) {
    const e = d.endpoints[b.dataset.errors];
    b.addEventListener('click', () => focusImpact(`${scope(e)} status:error`));
  }
  for (const b of $('endpoints').querySelectorAll('[data-slow]')) {
    const e = d.endpoints[b.dataset.slow];
    b.addEventListener('click', () => focusImpact(`${scope(e)} @duration:>${b.dataset.threshold}`));
  }
}

async function focusImpact(q) {
  state.entry = true;
  $('entry').checked = true;
  await search(q);
  $('impact-panel').scrollIntoView({ behavior: 'smooth', block: 'start' });
}

// ---- group by ---------------------------------------------------------------------------------

function bars(groups, metric, key) {
  const rows = groups.slice(0, 15);
  if (rows.length === 0) return '';
  const value = (g) => g[metric];
  const max = Math.max(...rows.map(value), metric === 'error_rate' ? 1e-9 : 1);
  const labelW = 170;
  const chartW = 560;
  const rowH = 22;
  const fmt = (g) => (metric === 'count' ? `${num(g.count)}${g.errors ? ` (${num(g.errors)} errors)` : ''}` : metric === 'error_rate' ? pct(g.error_rate) : duration(g.p95_ns));
  const items = rows
    .map((g, i) => {
      const y = i * rowH;
      const w = Math.max(1, (value(g) / max) * (chartW - 140));
      const label = g.value ?? `(no ${key})`;
      let bar;
      if (metric === 'count') {
        const we = (g.errors / max) * (chartW - 140);
        bar = `<rect x="${labelW}" y="${y + 4}" width="${w}" height="${rowH - 8}" fill="#9aa6ff"/>
               <rect x="${labelW}" y="${y + 4}" width="${we}" height="${rowH - 8}" fill="#e25555"/>`;
      } else {
        const color = metric === 'error_rate' ? '#e25555' : g.p95_ns >= 1e9 ? '#e08a1e' : '#9aa6ff';
        bar = `<rect x="${labelW}" y="${y + 4}" width="${w}" height="${rowH - 8}" fill="${color}"/>`;
      }
      return `<g><text class="label" x="${labelW - 8}" y="${y + 15}" text-anchor="end">${escape(label.length > 24 ? `${label.slice(0, 23)}…` : label)}</text>
        ${bar}<text x="${labelW + w + 6}" y="${y + 15}">${fmt(g)}</text></g>`;
    })
    .join('');
  return `<svg class="bars" id="groupby-chart" width="${labelW + chartW}" height="${rows.length * rowH + 4}" role="img" aria-label="bar chart">${items}</svg>`;
}

let lastGroups = null;
function renderGroups(d) {
  lastGroups = d;
  if (d.total === 0) {
    $('groupby').innerHTML = `<div class="empty">No span matches.${entryHint(0)}</div>`;
    return;
  }
  const metric = $('metric').value;
  const rows = d.groups
    .map(
      (g) => `<tr><td>${g.value === null ? `<span class="muted">(no ${escape(d.key)})</span>` : IDENTITY.includes(d.key) ? who(d.key, g.value) : `<code>${escape(g.value)}</code>`}</td><td class="num">${num(g.count)}</td>
        <td class="num ${g.errors ? 'err-text' : ''}">${num(g.errors)}</td><td class="num ${g.errors ? 'err-text' : ''}">${pct(g.error_rate)}</td>
        <td class="num">${duration(g.p50_ns)}</td><td class="num">${duration(g.p95_ns)}</td><td class="num">${duration(g.p99_ns)}</td></tr>`,
    )
    .join('');
  const cut = d.group_count > d.groups.length ? `<p class="small muted">The ${d.groups.length} biggest of ${num(d.group_count)} groups.</p>` : '';
  $('groupby').innerHTML = `
    <p class="small muted" style="margin-top:0">${num(d.total)} spans in ${num(d.group_count)} group${d.group_count === 1 ? '' : 's'} of <code>${escape(d.key)}</code>.</p>
    ${bars(d.groups, metric, d.key)}
    <table id="groupby-table"><tr><th>${escape(d.key)}</th><th class="num">count</th><th class="num">errors</th><th class="num">error rate</th>
      <th class="num">p50</th><th class="num">p95</th><th class="num">p99</th></tr>${rows}</table>${cut}`;
}

function groupKey() {
  const v = $('by').value;
  return v === '__custom' ? $('by-custom').value.trim() || 'usr.id' : v;
}
$('by').addEventListener('change', () => {
  $('by-custom').hidden = $('by').value !== '__custom';
  if ($('by').value === '__custom') $('by-custom').focus();
  else regroup();
});
$('by-custom').addEventListener('change', regroup);
$('metric').addEventListener('change', () => lastGroups && renderGroups(lastGroups));
async function regroup() {
  state.by = groupKey();
  syncUrl();
  try {
    renderGroups(await api('/api/groupby', { q: state.q, by: state.by, entry: state.entry ? '1' : '0' }));
  } catch (e) {
    $('groupby').innerHTML = `<div class="err-text">${escape(e.message)}</div>`;
  }
}

// ---- error groups -----------------------------------------------------------------------------

/// The query of one error group's failed spans.
function groupQuery(g) {
  const where = `service:${quote(g.service)} resource:${quote(g.resource)} status:error`;
  const code = /^HTTP (\d+)$/.exec(g.error);
  if (g.typed) return `${where} (@error.type:${quote(g.error)} OR @exception.type:${quote(g.error)})`;
  if (code && !g.message) return `${where} @http.response.status_code:${code[1]}`;
  if (g.error !== 'error') return `${where} (@exception.message:${quote(g.error)} OR @error.message:${quote(g.error)})`;
  return where;
}

function renderErrors(d) {
  if (d.errors === 0) {
    $('errors').innerHTML = '<div class="empty">Nothing failed in this time range.</div>';
    return;
  }
  const rows = d.groups
    .map(
      (g, i) => `<tr class="click" data-group="${i}"><td>${svc(g.service)}</td><td><code>${escape(g.resource)}</code>${g.entry ? '' : ' <span class="muted small">(child span)</span>'}</td>
        <td><span class="err-text">${escape(g.error)}</span>${g.message && g.message !== g.error ? `<div class="small muted">${escape(g.message)}</div>` : ''}</td>
        <td class="num">${num(g.count)}</td><td class="num"><strong>${num(g.users)}</strong></td><td class="num">${num(g.accounts)}</td>
        <td title="${escape(new Date(g.first_seen_ns / 1e6).toLocaleString())}">${ago(g.first_seen_ns)}</td>
        <td title="${escape(new Date(g.last_seen_ns / 1e6).toLocaleString())}">${ago(g.last_seen_ns)}</td>
        <td><button class="danger" data-group="${i}">who and which traces →</button></td></tr>`,
    )
    .join('');
  const cut = d.group_count > d.groups.length ? `<p class="small muted">The ${d.groups.length} groups that hit the most users, of ${num(d.group_count)}.</p>` : '';
  $('errors').innerHTML = `<p class="small muted" style="margin-top:0">${num(d.errors)} failed span${d.errors === 1 ? '' : 's'} in ${num(d.group_count)} group${d.group_count === 1 ? '' : 's'} · ${d.took_ms} ms</p>
    <table id="errors-table"><tr><th>service</th><th>resource</th><th>error</th><th class="num">errors</th><th class="num">users hit</th><th class="num">accounts</th><th>first seen</th><th>last seen</th><th></th></tr>${rows}</table>${cut}`;
  for (const el of $('errors').querySelectorAll('tr[data-group]')) {
    el.addEventListener('click', (ev) => {
      ev.preventDefault();
      const g = d.groups[el.dataset.group];
      state.entry = g.entry;
      $('entry').checked = g.entry;
      search(groupQuery(g)).then(() => $('impact-panel').scrollIntoView({ behavior: 'smooth', block: 'start' }));
    });
  }
}

// ---- tag analysis -----------------------------------------------------------------------------

function analysisParams(base) {
  return { ...base, baseline: $('baseline').value.trim(), keys: $('analysis-keys').value, limit: 12 };
}

function renderAnalysis(d) {
  if (d.selection_total === 0) {
    $('analysis').innerHTML = `<div class="empty">No span matches the selection in this time range.${entryHint(0)}</div>`;
    return;
  }
  const bar = (share, cls) =>
    `<span class="share"><span class="share-bar ${cls}" style="width:${Math.max(1, share * 120)}px"></span>${pct(share)}</span>`;
  const rows = d.top
    .filter((v) => v.difference > 0)
    .map(
      (v) => `<tr><td><code>${escape(v.key)}</code></td>
        <td>${IDENTITY.includes(v.key) ? who(v.key, v.value) : `<code>${escape(v.value)}</code>`}</td>
        <td>${bar(v.selection_share, 'sel')} <span class="muted small">${num(v.selection_count)}</span></td>
        <td>${bar(v.baseline_share, 'base')} <span class="muted small">${num(v.baseline_count)}</span></td>
        <td class="num err-text">+${(v.difference * 100).toFixed(1)} pts</td>
        <td><button data-narrow="${escape(v.key)}" data-value="${escape(v.value)}">add to query</button></td></tr>`,
    )
    .join('');
  $('analysis').innerHTML = `
    <p class="small muted" style="margin-top:0">${num(d.selection_total)} selected span${d.selection_total === 1 ? '' : 's'} against ${num(d.baseline_total)} in the baseline · ${d.took_ms} ms.
      A value's share of the selection beside its share of the baseline: the larger the gap, the more it stands out.</p>
    ${rows ? `<table id="analysis-table"><tr><th>tag</th><th>value</th><th>share of the selection</th><th>share of the baseline</th><th class="num">over by</th><th></th></tr>${rows}</table>` : '<div class="empty">No tag value stands out: the selection looks like the baseline.</div>'}`;
  for (const b of $('analysis').querySelectorAll('[data-narrow]')) {
    const field = ['service', 'resource'].includes(b.dataset.narrow) ? b.dataset.narrow : `@${b.dataset.narrow}`;
    b.addEventListener('click', () => search(`${state.q} ${field}:${quote(b.dataset.value)}`.trim()));
  }
}
async function reanalyse() {
  try {
    renderAnalysis(await api('/api/analysis', analysisParams({ q: state.q, entry: state.entry ? '1' : '0' })));
  } catch (e) {
    $('analysis').innerHTML = `<div class="err-text">${escape(e.body?.in === 'baseline' ? `baseline, character ${e.body.position + 1}: ` : '')}${escape(e.message)}</div>`;
  }
}
$('analysis-run').addEventListener('click', reanalyse);

// ---- spans ------------------------------------------------------------------------------------

function renderSpans(d) {
  $('spans-summary').textContent = `${num(d.total)} span${d.total === 1 ? '' : 's'} match${d.total === 1 ? 'es' : ''}${d.total > d.spans.length ? `, the newest ${d.spans.length} below` : ''} · ${d.took_ms} ms`;
  if (d.spans.length === 0) {
    $('spans').innerHTML = `<div class="empty">No span matches.${entryHint(0)}</div>`;
    return;
  }
  $('spans').innerHTML = `<table id="spans-table"><tr><th>time</th><th>service</th><th>resource</th><th class="num">duration</th><th>status</th>
      <th>usr.id</th><th>account.id</th><th>trace</th></tr>
    ${d.spans
      .map(
        (s) => `<tr class="click" data-trace="${s.trace_id}"><td title="${escape(new Date(s.start_ns / 1e6).toLocaleString())}">${time(s.start_ns)}</td>
          <td>${svc(s.service)}</td><td><code>${escape(s.resource)}</code></td><td class="num">${duration(s.duration_ns)}</td>
          <td>${statusPill(s)}</td><td>${who('usr.id', s.tags['usr.id'])}${fromBaggage(s, 'usr.id')}</td><td>${who('account.id', s.tags['account.id'])}${fromBaggage(s, 'account.id')}</td>
          <td><a href="?trace=${s.trace_id}" data-open="${s.trace_id}"><code>${s.trace_id.slice(0, 8)}…</code></a></td></tr>`,
      )
      .join('')}</table>`;
  for (const tr of $('spans').querySelectorAll('tr[data-trace]')) {
    tr.addEventListener('click', (ev) => {
      if (ev.target.closest('[data-who-key]')) return;
      ev.preventDefault();
      openTrace(tr.dataset.trace);
    });
  }
}

// ---- trace waterfall --------------------------------------------------------------------------

async function openTrace(id) {
  state.trace = id;
  syncUrl();
  let d;
  try {
    d = await api(`/api/trace/${id}`);
  } catch (e) {
    $('trace-panel').hidden = false;
    $('waterfall').innerHTML = `<div class="err-text">${escape(e.message)}</div>`;
    return;
  }
  const spans = d.spans;
  $('trace-panel').hidden = false;
  $('trace-id').textContent = id;
  if (spans.length === 0) {
    $('waterfall').innerHTML = '<div class="empty">No span of this trace is stored (yet).</div>';
    $('trace-summary').textContent = '';
    $('span-detail').innerHTML = '';
    $('trace-panel').scrollIntoView({ behavior: 'smooth' });
    return;
  }
  // Depth-first order from the roots (spans whose parent is not in the trace: the browser's).
  const byId = new Map(spans.map((s) => [s.span_id, s]));
  const children = new Map();
  const roots = [];
  for (const s of spans) {
    if (s.parent_id && byId.has(s.parent_id)) {
      if (!children.has(s.parent_id)) children.set(s.parent_id, []);
      children.get(s.parent_id).push(s);
    } else roots.push(s);
  }
  const ordered = [];
  const walk = (s, depth) => {
    ordered.push([s, depth]);
    for (const c of (children.get(s.span_id) ?? []).sort((a, b) => a.start_ns - b.start_ns)) walk(c, depth + 1);
  };
  for (const r of roots.sort((a, b) => a.start_ns - b.start_ns)) walk(r, 0);
  const t0 = Math.min(...spans.map((s) => s.start_ns));
  const t1 = Math.max(...spans.map((s) => s.start_ns + s.duration_ns));
  const total = Math.max(1, t1 - t0);
  const entry = spans.find((s) => s.kind === 'server' && s.tags['usr.id']) ?? spans.find((s) => s.kind === 'server');
  const services = [...new Set(spans.map((s) => s.service))];
  const errors = spans.filter((s) => s.error).length;
  $('trace-summary').innerHTML = `${spans.length} spans · ${services.map(svc).join(' ')} · ${duration(total)}
    ${errors ? `· <span class="err-text">${errors} failed</span>` : ''}
    ${entry?.tags['usr.id'] ? `· for ${who('usr.id', entry.tags['usr.id'])} on ${who('account.id', entry.tags['account.id'])}` : '· no signed-in user'}`;
  $('waterfall').innerHTML = ordered
    .map(([s, depth], i) => {
      const left = ((s.start_ns - t0) / total) * 100;
      const width = (s.duration_ns / total) * 100;
      const label = s.kind === 'internal' ? s.name : `${s.resource}${s.kind === 'client' ? ' (client)' : ''}`;
      return `<div class="row" data-i="${i}" data-kind="${s.kind}">
        <div class="name" style="padding-left:${depth * 16}px">${svc(s.service)} ${s.error ? '<span class="err-text">✖</span> ' : ''}${escape(label)}</div>
        <div class="track"><div class="bar ${escape(s.service)} ${s.error ? 'error' : ''}" style="left:${left}%;width:${width}%"></div></div>
        <div class="num small">${duration(s.duration_ns)}</div></div>`;
    })
    .join('');
  const select = (i) => {
    const [s] = ordered[i];
    for (const r of $('waterfall').querySelectorAll('.row')) r.classList.toggle('selected', r.dataset.i === String(i));
    const tags = Object.entries(s.tags)
      .map(([k, v]) => `<div class="k ${IDENTITY.includes(k) || k.startsWith('usr.') ? 'identity-tag' : ''}">${escape(k)}</div><div class="v">${escape(v)}</div>`)
      .join('');
    const note =
      s.kind === 'server'
        ? `the <b>service entry span</b> of ${svc(s.service)}: it carries the request's identity.`
        : `a child span: by design it carries <b>no</b> identity tags (find its users through the trace's entry span).`;
    $('span-detail').innerHTML = `<h3>${escape(s.kind === 'internal' ? s.name : s.resource)} <span class="muted small">span ${s.span_id} · ${s.kind}</span> ${statusPill(s)}</h3>
      <p class="small muted" style="margin:0">This is ${note}</p><div class="tags">${tags || '<div class="muted">no tags</div>'}</div>`;
  };
  for (const row of $('waterfall').querySelectorAll('.row')) row.addEventListener('click', () => select(Number(row.dataset.i)));
  select(Math.max(0, ordered.findIndex(([s]) => s === entry)));
  $('trace-panel').scrollIntoView({ behavior: 'smooth' });
}
$('trace-close').addEventListener('click', () => {
  $('trace-panel').hidden = true;
  state.trace = null;
  syncUrl();
});

// ---- one user's, account's or session's activity ---------------------------------------------

document.addEventListener('click', (ev) => {
  const a = ev.target.closest?.('[data-who-key]');
  if (!a) return;
  ev.preventDefault();
  ev.stopPropagation();
  openActivity(a.dataset.whoKey, a.dataset.whoValue);
});

async function openActivity(key, value) {
  state.activity = `${key}:${value}`;
  syncUrl();
  $('activity-panel').hidden = false;
  $('activity-who').textContent = `${key}:${value}`;
  $('activity').innerHTML = '<div class="empty">Loading…</div>';
  let d;
  try {
    d = await api('/api/activity', { key, value, limit: 500 });
  } catch (e) {
    $('activity').innerHTML = `<div class="err-text">${escape(e.message)}</div>`;
    return;
  }
  $('activity-summary').textContent = `every service entry span in the time range · ${d.took_ms} ms`;
  if (d.requests === 0) {
    $('activity').innerHTML = `<div class="empty">No request of ${escape(key)} <code>${escape(value)}</code> in this time range: widen it above.</div>`;
    $('activity-panel').scrollIntoView({ behavior: 'smooth', block: 'start' });
    return;
  }
  const groupRows = (groups, k) =>
    groups
      .map(
        (g) => `<tr><td>${k ? who(k, g.value) : `<code>${escape(g.value ?? '—')}</code>`}</td><td class="num">${num(g.count)}</td>
          <td class="num ${g.errors ? 'err-text' : ''}">${num(g.errors)}</td><td class="num">${duration(g.p95_ns)}</td></tr>`,
      )
      .join('');
  const first = d.spans[0];
  const last = d.spans[d.spans.length - 1];
  const shown = d.requests > d.spans.length ? ` (the last ${num(d.spans.length)} below)` : '';
  $('activity').innerHTML = `
    <p class="headline" id="activity-headline"><strong>${num(d.requests)} request${d.requests === 1 ? '' : 's'}</strong>${shown},
      <strong class="${d.errors ? 'err-text' : ''}">${num(d.errors)} failed</strong>, in ${num(d.session_count)} session${d.session_count === 1 ? '' : 's'},
      from ${escape(new Date(first.start_ns / 1e6).toLocaleString())} to ${escape(new Date(last.start_ns / 1e6).toLocaleString())}.</p>
    <div class="grid-impact">
      <div><h3>Sessions</h3><table id="activity-sessions"><tr><th>session.id</th><th class="num">requests</th><th class="num">errors</th><th class="num">p95</th></tr>${groupRows(d.sessions, 'session.id')}</table></div>
      <div><h3>What failed</h3>${
        d.failing_endpoints.length
          ? `<table id="activity-errors"><tr><th>resource</th><th class="num">requests</th><th class="num">errors</th><th class="num">p95</th></tr>${groupRows(d.failing_endpoints)}</table>`
          : '<div class="empty">Nothing failed.</div>'
      }
      ${d.users ? `<h3>Users</h3><table id="activity-users"><tr><th>usr.id</th><th class="num">requests</th><th class="num">errors</th><th class="num">p95</th></tr>${groupRows(d.users, 'usr.id')}</table>` : ''}</div>
    </div>
    <h3>Requests, oldest first</h3>
    <table id="activity-spans"><tr><th>time</th><th>service</th><th>resource</th><th>status</th><th class="num">latency</th><th>session</th>${key === 'usr.id' ? '' : '<th>usr.id</th>'}<th>trace</th></tr>
    ${d.spans
      .map(
        (s) => `<tr class="${s.error ? 'failed' : ''}"><td title="${escape(new Date(s.start_ns / 1e6).toLocaleString())}">${escape(new Date(s.start_ns / 1e6).toLocaleString())}</td>
          <td>${svc(s.service)}</td><td><code>${escape(s.resource)}</code></td><td>${statusPill(s)}</td>
          <td class="num ${s.duration_ns >= 1e9 ? 'warn-text' : ''}">${duration(s.duration_ns)}</td>
          <td>${key === 'session.id' ? `<code>${escape((s.tags['session.id'] ?? '—').slice(0, 8))}</code>` : who('session.id', s.tags['session.id'])}</td>
          ${key === 'usr.id' ? '' : `<td>${who('usr.id', s.tags['usr.id'])}</td>`}
          <td><a href="?trace=${s.trace_id}" data-open="${s.trace_id}"><code>${s.trace_id.slice(0, 8)}…</code></a></td></tr>`,
      )
      .join('')}</table>`;
  for (const a of $('activity').querySelectorAll('[data-open]')) {
    a.addEventListener('click', (ev) => {
      ev.preventDefault();
      openTrace(a.dataset.open);
    });
  }
  $('activity-panel').scrollIntoView({ behavior: 'smooth', block: 'start' });
}
$('activity-close').addEventListener('click', () => {
  $('activity-panel').hidden = true;
  state.activity = null;
  syncUrl();
});
const openActivityFromState = () => {
  if (!state.activity) return null;
  const at = state.activity.indexOf(':');
  return openActivity(state.activity.slice(0, at), state.activity.slice(at + 1));
};

// ---- monitors ---------------------------------------------------------------------------------

/// A JSON call with a method and a body (the monitors' routes take no time range).
async function send(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let data = {};
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    // Not the API's answer (a server without the monitors' routes).
  }
  if (!res.ok) throw Object.assign(new Error(data.error?.message ?? res.statusText), { body: data.error, status: res.status });
  return data;
}

// Served by the demo's own server, the page has no monitors (they are usertrail-explorer's).
let monitorsServed = true;

const STATE_CLASS = { ALERT: 'alert', OK: 'ok', 'NO DATA': 'nodata' };
const stateBadge = (s) =>
  s ? `<span class="state ${STATE_CLASS[s]}" data-state="${escape(s)}">${escape(s)}</span>` : '<span class="state pending" data-state="">not yet evaluated</span>';
const METRIC_LABEL = { error_rate: 'error rate', p50: 'p50', p95: 'p95', p99: 'p99', count: 'count', users: 'distinct users' };
const UNIT = { error_rate: '%', p50: 'ms', p95: 'ms', p99: 'ms', count: 'spans', users: 'users' };
const shown = (m, v) => (v == null ? '—' : `${Number(v.toFixed(m.metric === 'error_rate' ? 1 : 0)).toLocaleString('en-US')} ${UNIT[m.metric]}`);
const rule = (m) =>
  `${METRIC_LABEL[m.metric]} ${m.comparator === 'below' ? '<' : '>'} ${num(m.threshold)} ${UNIT[m.metric]} over ${escape(m.window)}${m.group_by ? ` per <code>${escape(m.group_by)}</code>` : ''}`;
const when = (ms) => (ms ? `<span title="${escape(new Date(ms).toLocaleString())}">${ago(ms * 1e6)}</span>` : '<span class="muted">—</span>');

function showView(view) {
  state.view = view;
  $('monitors-view').hidden = view !== 'monitors';
  $('explore-view').hidden = view === 'monitors';
  for (const b of document.querySelectorAll('nav.views button')) b.classList.toggle('current', b.dataset.view === view);
  syncUrl();
  if (view === 'monitors') loadMonitors();
}
for (const b of document.querySelectorAll('nav.views button')) b.addEventListener('click', () => showView(b.dataset.view));

async function loadMonitors() {
  if (!monitorsServed) return;
  let d;
  try {
    d = await send('GET', '/api/monitors');
  } catch (e) {
    if (e.status === 404) {
      monitorsServed = false;
      $('view-monitors').hidden = true;
      if (state.view === 'monitors') showView('explore');
      return;
    }
    $('monitors').innerHTML = `<div class="err-text">${escape(e.message)}</div>`;
    return;
  }
  const alerting = d.monitors.filter((m) => m.state === 'ALERT').length;
  $('alert-count').hidden = alerting === 0;
  $('alert-count').textContent = `${alerting} ALERT`;
  if (state.view !== 'monitors') return;
  if (d.monitors.length === 0) {
    $('monitors').innerHTML = '<div class="empty">No monitor yet: create one below, e.g. the error rate of <code>@account.id:premium_*</code> above 5 % over 5 minutes.</div>';
  } else {
    $('monitors').innerHTML = `<table id="monitors-table"><tr><th>state</th><th>name</th><th>query</th><th>rule</th><th class="num">value</th><th>last evaluated</th><th>deliveries</th><th></th></tr>
      ${d.monitors
        .map((m) => {
          const groups = m.group_by
            ? `<div class="small muted">${num(m.alerting)} of ${num(m.states.length)} ${escape(m.group_by)} in ALERT</div>`
            : '';
          const v = m.group_by ? (m.states.find((g) => g.state === 'ALERT') ?? m.states[0])?.value : m.states[0]?.value;
          return `<tr class="click ${m.state === 'ALERT' ? 'monitor-alert' : ''} ${m.muted ? 'monitor-muted' : ''}" data-monitor="${m.id}">
            <td>${stateBadge(m.state)}${m.muted ? ' <span class="pill">muted</span>' : ''}</td>
            <td><b>${escape(m.name)}</b>${groups}</td>
            <td><code>${escape(m.query || '(every span)')}</code></td>
            <td class="small">${rule(m)}</td>
            <td class="num ${m.state === 'ALERT' ? 'err-text' : ''}">${shown(m, v)}</td>
            <td>${when(m.evaluated_ms)}${m.error ? ` <span class="err-text small">${escape(m.error)}</span>` : ''}</td>
            <td>${m.failure_count ? `<span class="pill err">${num(m.failure_count)} failed</span>` : '<span class="muted small">no failure</span>'}</td>
            <td><button data-mute="${m.id}" data-muted="${m.muted}">${m.muted ? 'unmute' : 'mute'}</button>
                <button class="danger" data-delete="${m.id}">delete</button></td></tr>`;
        })
        .join('')}</table>`;
    for (const b of $('monitors').querySelectorAll('[data-mute]')) {
      b.addEventListener('click', async (ev) => {
        ev.stopPropagation();
        await send('PATCH', `/api/monitors/${b.dataset.mute}`, { muted: b.dataset.muted !== 'true' });
        loadMonitors();
      });
    }
    for (const b of $('monitors').querySelectorAll('[data-delete]')) {
      b.addEventListener('click', async (ev) => {
        ev.stopPropagation();
        if (!confirm('Delete this monitor and its history?')) return;
        await send('DELETE', `/api/monitors/${b.dataset.delete}`);
        if (String(state.monitor) === b.dataset.delete) closeMonitor();
        loadMonitors();
      });
    }
    for (const tr of $('monitors').querySelectorAll('tr[data-monitor]')) tr.addEventListener('click', () => openMonitor(tr.dataset.monitor));
  }
  document.body.dataset.monitors = String(d.monitors.length);
  if (state.monitor) openMonitor(state.monitor, false);
}

async function openMonitor(id, scroll = true) {
  state.monitor = id;
  syncUrl();
  let m;
  try {
    m = await send('GET', `/api/monitors/${id}`);
  } catch (e) {
    $('monitor-panel').hidden = false;
    $('monitor-detail').innerHTML = `<div class="err-text">${escape(e.message)}</div>`;
    return;
  }
  $('monitor-panel').hidden = false;
  $('monitor-name').innerHTML = `<b>${escape(m.name)}</b> ${stateBadge(m.state)}`;
  $('monitor-summary').innerHTML = `<code>${escape(m.query || '(every span)')}</code> · ${rule(m)} · webhook <code>${escape(m.webhook)}</code>${m.muted ? ' · <b>muted</b>: nothing is sent' : ''}`;
  const link = (g) => {
    const q = [m.query, g != null && m.group_by ? `${['service', 'resource', 'name', 'kind'].includes(m.group_by) ? '' : '@'}${m.group_by}:${quote(g)}` : ''].filter(Boolean).join(' ');
    return `?q=${encodeURIComponent(q)}&range=${encodeURIComponent(m.window)}`;
  };
  const groups = m.states
    .map(
      (g) => `<tr class="${g.state === 'ALERT' ? 'monitor-alert' : ''}"><td>${stateBadge(g.state)}</td><td>${g.group == null ? '<span class="muted">(whole)</span>' : `<code>${escape(g.group)}</code>`}</td>
        <td class="num">${shown(m, g.value)}</td><td>${when(g.since_ms)}</td><td><a href="${link(g.group)}">its spans →</a></td></tr>`,
    )
    .join('');
  const transitions = [...m.history]
    .reverse()
    .map(
      (t) => `<tr><td>${escape(new Date(t.at_ms).toLocaleString())}</td><td>${t.group == null ? '' : `<code>${escape(t.group)}</code>`}</td>
        <td>${t.from ? stateBadge(t.from) : '<span class="muted">(new)</span>'} → ${stateBadge(t.to)}</td><td class="num">${shown(m, t.value)}</td>
        <td>${t.notified ? '<span class="pill ok">sent</span>' : '<span class="muted small">not sent</span>'}</td></tr>`,
    )
    .join('');
  const failures = [...m.failures]
    .reverse()
    .map(
      (f) => `<tr><td>${escape(new Date(f.at_ms).toLocaleString())}</td><td>${escape(f.summary)}</td><td class="num">${f.attempt || '—'}</td>
        <td class="err-text">${escape(f.error)}</td><td>${f.gave_up ? '<span class="pill err">gave up</span>' : '<span class="pill warn">retrying</span>'}</td></tr>`,
    )
    .join('');
  $('monitor-detail').innerHTML = `
    <div class="grid-impact">
      <div><h3>State per group</h3>${groups ? `<table id="monitor-groups"><tr><th>state</th><th>group</th><th class="num">value</th><th>since</th><th></th></tr>${groups}</table>` : '<div class="empty">Not evaluated yet.</div>'}</div>
      <div><h3>Delivery failures</h3>${failures ? `<table id="monitor-failures"><tr><th>when</th><th>notification</th><th class="num">attempt</th><th>error</th><th></th></tr>${failures}</table>` : '<div class="empty">Every notification was delivered.</div>'}</div>
    </div>
    <h3>Transitions, newest first</h3>
    ${transitions ? `<table id="monitor-history"><tr><th>when</th><th>group</th><th>change</th><th class="num">value</th><th>webhook</th></tr>${transitions}</table>` : '<div class="empty">No change of state yet.</div>'}`;
  if (scroll) $('monitor-panel').scrollIntoView({ behavior: 'smooth', block: 'start' });
}
function closeMonitor() {
  $('monitor-panel').hidden = true;
  state.monitor = null;
  syncUrl();
}
$('monitor-close').addEventListener('click', closeMonitor);

$('monitor-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const f = new FormData($('monitor-form'));
  const text = (k) => String(f.get(k) ?? '').trim();
  const spec = {
    name: text('name'),
    query: text('query'),
    metric: text('metric'),
    comparator: text('comparator'),
    threshold: Number(text('threshold')),
    window: text('window'),
    webhook: text('webhook'),
    notify_no_data: f.get('notify_no_data') === 'on',
  };
  if (text('group_by')) spec.group_by = text('group_by');
  const groups = text('groups').split(',').map((g) => g.trim()).filter(Boolean);
  if (groups.length) spec.groups = groups;
  try {
    const m = await send('POST', '/api/monitors', spec);
    $('monitor-form-error').innerHTML = '';
    $('monitor-form').reset();
    await loadMonitors();
    openMonitor(m.id);
  } catch (e) {
    const b = e.body ?? {};
    $('monitor-form-error').innerHTML =
      b.position !== undefined
        ? `<div class="form-error">${escape(spec.query)}\n${' '.repeat(b.position)}^ ${escape(e.message)} (character ${b.position + 1})</div>`
        : `<div class="form-error">${escape(e.message)}</div>`;
  }
});

// ---- start ------------------------------------------------------------------------------------

async function loadStatus() {
  try {
    const s = await api('/api/status');
    if (s.mode === 'otlp') {
      $('banner').innerHTML = `<div class="banner">Spans are exported over OTLP to <code>${escape(s.endpoint)}</code> (<code>OTEL_EXPORTER_OTLP_ENDPOINT</code> is set): look for them there. This explorer reads the local store, which is off.</div>`;
      $('status').textContent = 'OTLP export';
    } else {
      $('status').textContent = `${num(s.spans)} spans stored`;
    }
  } catch {
    $('status').textContent = '';
  }
}

$('search-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  search($('q').value.trim());
});
for (const b of document.querySelectorAll('[data-q]')) b.addEventListener('click', () => search(b.dataset.q));
// ---- time range -------------------------------------------------------------------------------

const localInput = (ms) => {
  if (!ms) return '';
  const d = new Date(Number(ms));
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 19);
};
function showRange() {
  // A monitor's link brings its window (`10s`, `30m`): shown as a range of its own.
  if (![...$('range').options].some((o) => o.value === state.range)) {
    $('range').add(new Option(`Past ${state.range}`, state.range), $('range').options[$('range').options.length - 1]);
  }
  $('range').value = state.range;
  $('custom-range').hidden = state.range !== 'custom';
  $('from').value = localInput(state.from);
  $('to').value = localInput(state.to);
}
/// Every view again, for the new range.
function refresh() {
  showRange();
  return Promise.all([loadEndpoints(), search(), openActivityFromState()]);
}
$('range').addEventListener('change', () => {
  state.range = $('range').value;
  if (state.range === 'custom') {
    const now = Date.now();
    state.from ??= String(now - 3600e3);
    state.to ??= String(now);
  } else {
    state.from = null;
    state.to = null;
  }
  refresh();
});
$('range-apply').addEventListener('click', () => {
  const ms = (v) => (v ? String(new Date(v).getTime()) : null);
  state.from = ms($('from').value);
  state.to = ms($('to').value);
  refresh();
});
showRange();

$('entry').checked = state.entry;
$('entry').addEventListener('change', () => {
  state.entry = $('entry').checked;
  search();
});
const known = [...$('by').options].some((o) => o.value === state.by);
if (known) $('by').value = state.by;
else {
  $('by').value = '__custom';
  $('by-custom').hidden = false;
  $('by-custom').value = state.by;
}

// Served by the demo, the page links to its shop; served by usertrail-explorer, there is none.
fetch('/config.json')
  .then((r) => {
    if (r.ok) $('shop-link').hidden = false;
  })
  .catch(() => {});

window.explorer = { search, openTrace, openActivity, state, refresh, loadMonitors };
showView(state.view);
// The header's ALERT count, in every view.
if (state.view !== 'monitors') loadMonitors();
await Promise.all([loadStatus(), loadEndpoints(), search(), state.trace ? openTrace(state.trace) : null, openActivityFromState()]);
window.explorer.ready = true;
setInterval(loadStatus, 5000);
// Monitors change state on their own schedule: the view follows (and the header's ALERT count).
setInterval(loadMonitors, 2000);
