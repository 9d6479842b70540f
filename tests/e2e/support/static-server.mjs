// A real HTTP server on 127.0.0.1 that serves files from a few mounted folders.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.css': 'text/css; charset=utf-8',
};

/**
 * Starts a static server. `mounts` maps a URL prefix ('/pkg/') to a folder.
 * `pages` maps a path to `{ body, type?, headers? }` served as is (a page a test writes inline,
 * with the response headers it needs, e.g. a Content-Security-Policy); `fallback(path)` answers
 * what nothing else does (default: a 404), like a single-page app's server or a proxy's error page.
 * `requests` lists every path asked for. Resolves to `{ url, close, requests }` once listening on
 * an ephemeral port.
 */
export async function serveStatic(mounts, { pages = {}, fallback } = {}) {
  const requests = [];
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    requests.push(path);
    const page = pages[path];
    if (page) {
      res.writeHead(200, { 'content-type': page.type ?? TYPES[extname(path)] ?? TYPES['.html'], ...page.headers });
      res.end(page.body);
      return;
    }
    for (const [prefix, dir] of Object.entries(mounts)) {
      if (!path.startsWith(prefix)) continue;
      let rel = path.slice(prefix.length) || 'index.html';
      if (rel.endsWith('/')) rel += 'index.html';
      const file = normalize(join(dir, rel));
      if (!file.startsWith(normalize(dir) + sep) && file !== normalize(dir)) break;
      try {
        const body = await readFile(file);
        res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
        res.end(body);
        return;
      } catch {
        break;
      }
    }
    const answer = fallback?.(path) ?? { status: 404, type: 'text/plain', body: 'not found' };
    res.writeHead(answer.status ?? 200, { 'content-type': answer.type ?? TYPES['.html'] });
    res.end(answer.body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
