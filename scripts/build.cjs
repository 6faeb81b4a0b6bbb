#!/usr/bin/env node
/**
 * Compiles server/ and migrations/ to dist/ with tsc (tsconfig.build.json).
 *
 *   node scripts/build.cjs              always build (npm run build)
 *   node scripts/build.cjs --if-stale   build only when dist/ is missing or a source changed since
 *                                       the last build (npm start, and npm install's prepare step)
 *
 * "Changed" means the list of sources, their sizes or their modification times differ from the
 * fingerprint written beside the last build (dist/.build-fingerprint), so a pulled commit, an
 * edit, a new or a deleted file all rebuild, and an unchanged tree starts at once. dist/ is
 * emptied before each build: a deleted migration must not live on as JavaScript.
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const FINGERPRINT = path.join(DIST, '.build-fingerprint');
const SOURCE_DIRS = ['server', 'migrations'];
const SOURCE_FILES = ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];

function sourceFiles() {
  const files = [...SOURCE_FILES];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith('.ts') || entry.name.endsWith('.json')) files.push(rel);
    }
  };
  for (const dir of SOURCE_DIRS) walk(dir);
  return files.sort();
}

function fingerprint() {
  return sourceFiles()
    .map((file) => {
      const stat = fs.statSync(path.join(ROOT, file), { throwIfNoEntry: false });
      return stat ? `${file} ${stat.size} ${Math.floor(stat.mtimeMs)}` : `${file} -`;
    })
    .join('\n');
}

function isCurrent(print) {
  return fs.existsSync(path.join(DIST, 'server', 'main.js')) && fs.existsSync(FINGERPRINT) && fs.readFileSync(FINGERPRINT, 'utf8') === print;
}

function build(print) {
  let tsc;
  try {
    tsc = require.resolve('typescript/bin/tsc', { paths: [ROOT] });
  } catch {
    return { ok: false, reason: 'TypeScript is not installed (npm install, without --omit=dev, installs it)' };
  }
  const started = Date.now();
  fs.rmSync(DIST, { recursive: true, force: true });
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) return { ok: false, reason: 'tsc failed (see above)' };
  fs.writeFileSync(FINGERPRINT, print);
  console.error(`Built dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  return { ok: true };
}

function main() {
  const ifStale = process.argv.includes('--if-stale');
  const print = fingerprint();
  if (ifStale && isCurrent(print)) return 0;
  if (ifStale && fs.existsSync(path.join(DIST, 'server', 'main.js'))) console.error('Sources changed since the last build: building dist/ again…');
  const result = build(print);
  if (result.ok) return 0;
  // npm install's prepare step on a production install (no TypeScript): nothing to build with, not an error.
  if (process.env.npm_lifecycle_event === 'prepare' && result.reason.startsWith('TypeScript is not installed')) return 0;
  console.error(`Haven could not be built: ${result.reason}.`);
  return 1;
}

process.exitCode = main();
