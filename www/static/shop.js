// The demo shop. It uses the built `usertrail` package as any app would: import, init with the
// backend it may trace, setUser/setAccount on sign-in. Everything else is an ordinary page.
import { init, setUser, setAccount, clearUser, clearAccount, getSessionId } from '/pkg/index.js';

const $ = (id) => document.getElementById(id);
const config = await (await fetch('/config.json')).json();

// Only the checkout API gets trace headers and the identity baggage; the third-party reviews
// widget on another origin gets nothing.
init({
  service: 'shop',
  env: 'demo',
  allowedTracingUrls: [config.checkout],
  propagateTraceBaggage: true,
});

/** State the tests and the traffic script read. */
const demo = (window.demo = { ready: false, busy: false, user: null, lastCheckout: null, lastProducts: null, checkouts: 0 });

const money = (cents) => `$${(cents / 100).toFixed(2)}`;
const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const initials = (name) => name.split(/[\s,]+/).filter((w) => /^[A-Za-z]/.test(w)).slice(0, 2).map((w) => w[0].toUpperCase()).join('');
const hue = (id) => [...id].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 360, 7);
const explorerTrace = (traceId) => `${config.explorer}?trace=${traceId}`;

$('checkout-origin').textContent = `'${config.checkout}'`;
$('third-party-origin').textContent = config.thirdParty;

// ---- sign-in ---------------------------------------------------------------------------------

function renderIdentity() {
  const user = demo.user;
  for (const b of document.querySelectorAll('#users button')) b.classList.toggle('current', b.dataset.user === user?.id);
  $('sign-out').disabled = !user;
  $('whoami').innerHTML = user
    ? `Signed in as <b>${escape(user.name)}</b> <code>${escape(user.id)}</code> on account <code>${escape(user.account_id)}</code>`
    : 'Not signed in: requests carry a session id only.';
  $('session-id').textContent = getSessionId() ?? '(none)';
}

function signIn(id) {
  const user = config.users.find((u) => u.id === id);
  if (!user) return;
  setUser({ id: user.id, name: user.name });
  setAccount({ id: user.account_id, name: user.account_name });
  demo.user = user;
  localStorage.setItem('demo-user', user.id);
  renderIdentity();
}

function signOut() {
  clearUser();
  clearAccount();
  demo.user = null;
  localStorage.removeItem('demo-user');
  renderIdentity();
}

$('users').innerHTML = config.users
  .map(
    (u) =>
      `<button data-user="${escape(u.id)}">${escape(u.name)}<small>${escape(u.id)} · ${escape(u.account_id)}</small></button>`,
  )
  .join('');
for (const b of document.querySelectorAll('#users button')) b.addEventListener('click', () => signIn(b.dataset.user));
$('sign-out').addEventListener('click', signOut);

// ---- what the server received ---------------------------------------------------------------

function showWire(received, what) {
  if (!received) return;
  const lines = [`${what}`];
  for (const name of ['traceparent', 'tracestate', 'baggage']) lines.push(`${name}: ${received[name] ?? '(not sent)'}`);
  $('wire').textContent = lines.join('\n');
}

// ---- products and cart ----------------------------------------------------------------------

let products = [];
const cart = new Map();

function renderCart() {
  const lines = [...cart.entries()];
  if (lines.length === 0) {
    $('cart').innerHTML = '<div class="empty">Empty: add a product.</div>';
  } else {
    let total = 0;
    $('cart').innerHTML =
      lines
        .map(([id, qty]) => {
          const p = products.find((x) => x.id === id);
          total += p.price_cents * qty;
          return `<div class="cart-line"><span>${escape(p.name)} × ${qty}</span><span>${money(p.price_cents * qty)}</span></div>`;
        })
        .join('') + `<div class="cart-line"><b>Total</b><b id="cart-total">${money(total)}</b></div>`;
  }
  $('checkout').disabled = lines.length === 0 || demo.busy;
}

async function browse() {
  $('products-note').textContent = 'loading…';
  try {
    const res = await fetch(`${config.checkout}/api/products`);
    const body = await res.json();
    products = body.products;
    demo.lastProducts = { status: res.status, trace_id: body.trace_id };
    $('products').innerHTML = products
      .map(
        (p) => `<div class="product" data-product="${escape(p.id)}">
          <div class="badge" style="background:hsl(${hue(p.id)} 70% 92%);color:hsl(${hue(p.id)} 60% 32%)">${initials(p.name)}</div><div>${escape(p.name)}</div>
          <div class="price">${money(p.price_cents)}</div>
          <button data-add="${escape(p.id)}">Add to cart</button></div>`,
      )
      .join('');
    for (const b of document.querySelectorAll('[data-add]')) {
      b.addEventListener('click', () => {
        cart.set(b.dataset.add, (cart.get(b.dataset.add) ?? 0) + 1);
        renderCart();
      });
    }
    $('products-note').innerHTML = `GET /api/products: trace <a href="${explorerTrace(body.trace_id)}" target="_blank"><code>${body.trace_id.slice(0, 8)}…</code></a>`;
    showWire(body.received, 'GET /api/products');
  } catch (e) {
    $('products').innerHTML = `<div class="err-text">Could not load products: ${escape(e.message)}</div>`;
    $('products-note').textContent = '';
  }
}

async function checkout() {
  demo.busy = true;
  renderCart();
  $('result').innerHTML = '<div class="result muted">Paying…</div>';
  const items = [...cart.entries()].map(([id, qty]) => ({ id, qty }));
  const card = $('card').value;
  let outcome;
  try {
    const res = await fetch(`${config.checkout}/api/checkout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ items, card }),
    });
    const body = await res.json().catch(() => ({}));
    outcome = { status: res.status, ...body };
  } catch (e) {
    outcome = { status: 0, error: e.message };
  }
  demo.lastCheckout = outcome;
  demo.checkouts += 1;
  const link = outcome.trace_id
    ? ` · <a href="${explorerTrace(outcome.trace_id)}" target="_blank">see this trace in the explorer</a>`
    : '';
  if (outcome.status === 200) {
    $('result').innerHTML = `<div class="result ok" id="checkout-ok">Paid ${money(outcome.amount_cents)}: order <code>${escape(outcome.order_id)}</code>${link}</div>`;
    cart.clear();
  } else {
    $('result').innerHTML = `<div class="result err" id="checkout-failed">Checkout failed (${outcome.status}): ${escape(outcome.error ?? 'unknown error')}${link}</div>`;
  }
  showWire(outcome.received, 'POST /api/checkout');
  demo.busy = false;
  renderCart();
}

$('browse').addEventListener('click', browse);
$('checkout').addEventListener('click', checkout);
$('clear-cart').addEventListener('click', () => {
  cart.clear();
  renderCart();
});

// ---- the third party --------------------------------------------------------------------------

async function reviews() {
  try {
    const res = await fetch(`${config.thirdParty}/reviews.json`);
    const body = await res.json();
    $('reviews').innerHTML = body.reviews
      .map((r) => `<li>${'★'.repeat(r.stars)} <b>${escape(r.product)}</b>: ${escape(r.text)}</li>`)
      .join('');
  } catch (e) {
    $('reviews').innerHTML = `<li class="err-text">Could not load reviews: ${escape(e.message)}</li>`;
  }
  // What did the third party see? (The demo records it; a real one would not tell you.)
  const seen = await (await fetch('/api/third-party')).json();
  const n = seen.requests.length;
  $('third-party-check').innerHTML =
    seen.with_trace_headers === 0
      ? `<span class="ok-text">✓ The third party received ${n} request${n === 1 ? '' : 's'}: no <code>traceparent</code>, no <code>baggage</code>, no user or account id.</span>`
      : `<span class="err-text">✗ ${seen.with_trace_headers} of ${n} requests to the third party carried trace headers!</span>`;
  demo.thirdPartyChecked = (demo.thirdPartyChecked ?? 0) + 1;
}
$('reviews-reload').addEventListener('click', reviews);

// ---- start ------------------------------------------------------------------------------------

const saved = localStorage.getItem('demo-user');
if (saved) signIn(saved);
renderIdentity();
await browse();
renderCart();
await reviews();
demo.ready = true;
