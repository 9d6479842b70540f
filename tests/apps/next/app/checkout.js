'use client';
// The way the Next.js docs place a browser SDK: a client component that starts it in an effect.
// Next.js also renders this component on the server (at build time and per request), where the
// import must not fail; no `next/dynamic` with `ssr: false` is needed.
import { useEffect, useState } from 'react';
import { getSessionId, init, setUser } from 'usertrail';

export default function Checkout() {
  const [result, setResult] = useState('loading');
  useEffect(() => {
    const api = new URL(location.href).searchParams.get('api');
    init({ allowedTracingUrls: [api], propagateTraceBaggage: true });
    setUser({ id: 'user_123' });
    fetch(`${api}/checkout`, { method: 'POST', body: '{}' })
      .then((response) => response.text())
      .then((reply) => setResult(JSON.stringify({ reply, sessionId: getSessionId() })));
  }, []);
  return <p id="result">{result}</p>;
}
