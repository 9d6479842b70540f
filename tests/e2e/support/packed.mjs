// The published artifact as a user gets it: `npm pack` of the repository, installed into a copy
// of one of the apps in tests/apps/. The copies live in tests/.apps/ (not a temporary folder) so
// that the tools of the root package.json (Next.js, Vite, webpack, Rollup, Vitest) resolve from
// them as from any app that has them installed.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../../', import.meta.url));

let tarball;

/** Packs the repository once per process; the tarball's path. */
export function packTarball() {
  if (!tarball) {
    const dir = mkdtempSync(join(tmpdir(), 'usertrail-pack-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: root });
    tarball = join(dir, readdirSync(dir).find((f) => f.endsWith('.tgz')));
  }
  return tarball;
}

/**
 * A fresh copy of tests/apps/`name` with the packed tarball installed (`npm install` of the
 * .tgz, as a user installs a package); its folder. Removed when the process exits.
 */
export function installApp(name) {
  const parent = join(root, 'tests/.apps');
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, `${name}-`));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(root, 'tests/apps', name), dir, { recursive: true });
  execFileSync(
    'npm',
    ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error', packTarball()],
    { cwd: dir },
  );
  return dir;
}
