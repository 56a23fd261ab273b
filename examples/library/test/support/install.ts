import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const BANYAN = path.resolve(__dirname, '../../../..');
export const EXAMPLE = path.resolve(__dirname, '../..');

/**
 * The @banyan packages the library installs, by the documented route (docs/adopt.md, step 1):
 * what its processes require (db, outbox, inbox, messaging, relay, telemetry) and the command
 * (cli), with every @banyan package they depend on. Not the gateway: it runs from the clone.
 */
export const PACKAGES = ['cli', 'config', 'db', 'events', 'inbox', 'messaging', 'migration', 'outbox', 'parity', 'relay', 'sync', 'telemetry'];

const MARKER = path.join(EXAMPLE, 'node_modules', '.banyan-tarballs.sha256');
const LOCK = path.join(os.tmpdir(), 'banyan-library-install.lock');

/**
 * Pack the packages from this checkout's dist and install the tarballs into examples/library.
 * An install of the twelve and their 251 packages takes ~15 s here from npm's cache, 32 s from the
 * registry with an empty cache (measured on this 2-core machine); it runs only when
 * a tarball or the example's package.json changed since the last one (npm pack writes fixed
 * timestamps, so the same files give the same bytes). Two test files may ask at once: a lock
 * directory makes the second wait for the first and then find the marker current.
 */
export function installBanyan(): { installed: boolean; ms: number } {
  const started = Date.now();
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      // A lock left by a run that was killed is stale after five minutes (a first install may be slow).
      const held = statSync(LOCK, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > 300_000) rmdirSync(LOCK);
      execFileSync('sleep', ['0.5']);
    }
  }
  const packDir = mkdtempSync(path.join(os.tmpdir(), 'banyan-library-pack-'));
  try {
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', packDir, ...PACKAGES.flatMap((p) => ['-w', `packages/${p}`])], { cwd: BANYAN, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
    const tarballs = (JSON.parse(out) as Array<{ filename: string }>).map((r) => path.join(packDir, r.filename)).sort();
    const hash = createHash('sha256');
    hash.update(readFileSync(path.join(EXAMPLE, 'package.json')));
    for (const t of tarballs) hash.update(readFileSync(t));
    const digest = hash.digest('hex');
    if (existsSync(MARKER) && readFileSync(MARKER, 'utf8') === digest) return { installed: false, ms: Date.now() - started };
    // --no-save: the example's package.json names its own dependencies only; a reader's install
    // (docs/adopt.md) saves the tarballs' paths, which are theirs, not ours to commit.
    execFileSync('npm', ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', '--engine-strict=false', ...tarballs], {
      cwd: EXAMPLE,
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 16 * 1024 * 1024,
    });
    writeFileSync(MARKER, digest);
    return { installed: true, ms: Date.now() - started };
  } finally {
    rmSync(packDir, { recursive: true, force: true });
    rmdirSync(LOCK);
  }
}
