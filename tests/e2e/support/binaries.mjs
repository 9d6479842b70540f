// The workspace's binaries for the end-to-end tests, built as `cargo test --workspace
// --all-features` (the step of scripts/test before these tests) builds them: the same packages,
// features and targets, so that here cargo finds them up to date. Built per package instead
// (`cargo build -p usertrail-www`), every dependency compiled again with other features: three
// copies of tokio, axum and the propagator, minutes of build and gigabytes of target folder.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
let built = false;

/** The path of the workspace's debug binary `name` (`usertrail-demo`), built first if needed. */
export function cargoBinary(name) {
  if (!built) {
    execFileSync('cargo', ['build', '--quiet', '--workspace', '--all-features', '--bins', '--tests'], {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    built = true;
  }
  return join(process.env.CARGO_TARGET_DIR ?? join(root, 'target'), 'debug', name);
}
