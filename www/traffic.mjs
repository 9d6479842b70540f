#!/usr/bin/env node
// `npm run demo:traffic`: shoppers in headless Chromium, so that the explorer has something to
// show. Each one signs in as one of the demo's users (now and then as nobody), browses, fills a
// cart and checks out with a random card, through the real page and the real SDK, for N seconds.
//
//   npm run demo:traffic                              5 shoppers for 30 s on http://127.0.0.1:8080
//   npm run demo:traffic -- --seconds 120 --users 8 --url http://127.0.0.1:8080
import { chromium } from 'playwright-core';

import { CHROMIUM_FLAGS } from '../tests/e2e/support/browser.mjs';

const HELP = `usage: npm run demo:traffic -- [--seconds N] [--users N] [--url SHOP_URL]
  --seconds N   how long to shop (default 30)
  --users N     shoppers at once, each in its own browser context (default 5)
  --url URL     the shop (default http://127.0.0.1:8080); start it with ./scripts/demo`;

function options(argv) {
  const o = { seconds: 30, users: 5, url: 'http://127.0.0.1:8080' };
  for (let i = 0; i < argv.length; i++) {
    const [name, inline] = argv[i].split('=', 2);
    const value = () => inline ?? argv[++i];
    if (name === '--seconds') o.seconds = Number(value());
    else if (name === '--users') o.users = Number(value());
    else if (name === '--url') o.url = value().replace(/\/+$/, '');
    else if (name === '-h' || name === '--help') {
      console.log(HELP);
      process.exit(0);
    } else {
      console.error(`demo:traffic: unknown option ${argv[i]}\n${HELP}`);
      process.exit(2);
    }
  }
  if (!(o.seconds > 0) || !(o.users > 0)) {
    console.error(`demo:traffic: --seconds and --users take positive numbers\n${HELP}`);
    process.exit(2);
  }
  return o;
}

const opts = options(process.argv.slice(2));
const stats = { checkouts: 0, ok: 0, failed: 0, browses: 0, shoppers: 0, errors: 0 };
const pick = (list) => list[Math.floor(Math.random() * list.length)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let config;
try {
  config = await (await fetch(`${opts.url}/config.json`)).json();
} catch (e) {
  console.error(`demo:traffic: no demo at ${opts.url} (${e.cause?.code ?? e.message}). Start it first: ./scripts/demo`);
  process.exit(1);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: CHROMIUM_FLAGS,
});
const started = Date.now();
const deadline = started + opts.seconds * 1000;

async function shopper(index) {
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await page.goto(`${opts.url}/`);
    await page.waitForFunction(() => window.demo?.ready, null, { timeout: 15_000 });
    stats.shoppers += 1;
    // Spread the users over the shoppers, then let them wander.
    let user = config.users[index % config.users.length].id;
    while (Date.now() < deadline) {
      const roll = Math.random();
      if (roll < 0.08) user = null; // a visitor who is not signed in
      else if (roll < 0.2) user = pick(config.users).id;
      if (user) await page.click(`#users button[data-user="${user}"]`);
      else if (await page.isEnabled('#sign-out')) await page.click('#sign-out');

      if (Math.random() < 0.5) {
        const before = await page.evaluate(() => window.demo.lastProducts);
        await page.click('#browse');
        await page.waitForFunction((b) => window.demo.lastProducts !== b, before, { timeout: 10_000 });
        stats.browses += 1;
      }
      const lines = 1 + Math.floor(Math.random() * 3);
      for (let i = 0; i < lines; i++) await page.click(`[data-add="${pick(['beans', 'grinder', 'kettle', 'mug', 'scale'])}"]`);
      // Now and then a gift card, whose inventory step always fails.
      if (Math.random() < 0.06) await page.click('[data-add="gift-card"]');
      await page.selectOption('#card', pick(config.cards));
      const n = await page.evaluate(() => window.demo.checkouts);
      await page.click('#checkout');
      await page.waitForFunction((before) => window.demo.checkouts > before, n, { timeout: 20_000 });
      const { status } = await page.evaluate(() => window.demo.lastCheckout);
      stats.checkouts += 1;
      if (status === 200) stats.ok += 1;
      else stats.failed += 1;
      await page.click('#clear-cart');
      await sleep(150 + Math.random() * 600);
    }
  } catch (e) {
    stats.errors += 1;
    if (Date.now() < deadline) console.error(`\ndemo:traffic: shopper ${index + 1}: ${e.message.split('\n')[0]}`);
  } finally {
    await context.close().catch(() => {});
  }
}

const tty = process.stdout.isTTY;
let lastPrinted = 0;
function progress(final = false) {
  const elapsed = Math.min(opts.seconds, Math.round((Date.now() - started) / 1000));
  const line =
    `demo:traffic ${String(elapsed).padStart(3)}s / ${opts.seconds}s  ` +
    `${stats.shoppers} shoppers  ${stats.checkouts} checkouts (${stats.ok} ok, ${stats.failed} failed)  ` +
    `${stats.browses} product lists`;
  if (tty) process.stdout.write(`\r${line}   ${final ? '\n' : ''}`);
  else if (final || Date.now() - lastPrinted >= 5000) {
    console.log(line);
    lastPrinted = Date.now();
  }
}
const ticker = setInterval(progress, 500);
await Promise.all(Array.from({ length: opts.users }, (_, i) => shopper(i)));
clearInterval(ticker);
progress(true);
await browser.close();
console.log(`Now open ${opts.url}/explorer: who did the failing and slow requests hurt?`);
process.exit(stats.checkouts > 0 ? 0 : 1);
