import { launchChromium } from './e2e/support/browser.mjs';
const b = await launchChromium();
const p = await b.newPage();
const r = await p.evaluate(() => {
  const time = (n, f) => { for (let i = 0; i < 2000; i++) f(); let best = Infinity; for (let r = 0; r < 15; r++) { const t0 = performance.now(); for (let i = 0; i < n; i++) f(); best = Math.min(best, (performance.now() - t0) * 1000 / n); } return best.toFixed(3); };
  const mem = new WebAssembly.Memory({ initial: 20 });
  const view = new Uint8Array(mem.buffer);
  const text = 'traceparent\n00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03\ntracestate\ndd=s:1;o:rum\nx-datadog-trace-id\n11803532876627986230\nx-datadog-parent-id\n67667974448284343\nx-datadog-sampling-priority\n1\nx-datadog-origin\nrum\nx-datadog-tags\n_dd.p.tid=4bf92f3577b34da6\nbaggage\nsession.id=5afb433c-40c3-4974-a7c2-8d5933cc67f6,user.id=user_123,account.id=account_456';
  const enc = new TextEncoder().encode(text); view.set(enc, 1100000);
  const n = enc.length;
  const u8 = new TextDecoder(); const l1 = new TextDecoder('latin1');
  const plain = enc.slice();
  return {
    n,
    utf8Sub: time(20000, () => u8.decode(view.subarray(1100000, 1100000 + n))),
    utf8Plain: time(20000, () => u8.decode(plain)),
    latin1Sub: time(20000, () => l1.decode(view.subarray(1100000, 1100000 + n))),
    fromCharCodeSub: time(20000, () => String.fromCharCode.apply(null, view.subarray(1100000, 1100000 + n))),
    loop: time(20000, () => { let s = ''; const v = view; for (let i = 1100000, e = i + n; i < e; i++) s += String.fromCharCode(v[i]); return s; }),
    newU8: time(20000, () => new Uint8Array(mem.buffer, 1100000, n)),
  };
});
console.log(r);
await b.close();
