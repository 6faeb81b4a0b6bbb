import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { acquireDataDirLock, LOCK_FILE } from '../../server/db/data-dir-lock';
import { ROOT, startHaven } from '../support/haven-process';

/**
 * `npm run create-staff`, `seed`, `migrate` (and the families' commands) beside a real Haven process on the embedded
 * database (issue 16): the scripts used to open DATA_DIR's PGlite files a second time, print
 * "Created staff account…", and lose it all; the server never saw the account. Now the server
 * holds DATA_DIR and runs the scripts' commands itself; with no server, a script opens it alone.
 */
jest.setTimeout(240_000);

const SCRIPTS = {
  migrate: 'server/db/migrate-cli.ts',
  seed: 'server/seed.ts',
  'create-staff': 'server/create-staff-cli.ts',
  'purge-family-identities': 'server/families/retention-cli.ts',
} as const;

type ScriptRun = { code: number | null; stdout: string; stderr: string };

/** Runs an npm script's entry the way `npm run <name>` does (tsx), with only the variables given. */
function runScript(name: keyof typeof SCRIPTS, args: string[], env: Record<string, string>): Promise<ScriptRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, SCRIPTS[name]), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function linkIn(output: string): URL {
  const match = /(https?:\/\/\S+\/enrol\?token=\S+)/.exec(output);
  if (!match) throw new Error(`no set-password link in:\n${output}`);
  return new URL(match[1]!);
}

/** The same link, asked of a server at `base` (links name localhost; the test reaches 127.0.0.1). */
async function open(link: URL, base: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${base}${link.pathname}${link.search}`);
  return { status: res.status, text: await res.text() };
}

let dataDir: string;
beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'haven-commands-'));
});
afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

test('while the server runs, the scripts go through it; what they wrote is there after a restart', async () => {
  // PUBLIC_URL unset: links come from the server's PORT, which the scripts are not told.
  let haven = await startHaven({ dataDir, env: { PUBLIC_URL: '' } });
  try {
    const created = await runScript('create-staff', ['--email', 'director@hanvoice.example', '--name', 'Ji-woo Kim'], { DATA_DIR: dataDir });
    expect({ code: created.code, stderr: created.stderr }).toMatchObject({ code: 0 });
    expect(created.stdout).toContain('Created staff account director@hanvoice.example.');
    // (stderr is in the assertion above so that a failure says why: it failed once in a full embedded run under load.)
    expect(created.stderr).toContain(`Haven is running on ${dataDir}`);
    const link = linkIn(created.stdout);
    expect(link.origin).toBe(`http://localhost:${haven.port}`);
    // The server knows the account: its link opens the set-password form for that address.
    const form = await open(link, haven.url);
    expect({ status: form.status, server: haven.output() }).toMatchObject({ status: 200 });
    expect(form.text).toContain('director@hanvoice.example');

    const seeded = await runScript('seed', [], { DATA_DIR: dataDir });
    expect(seeded).toMatchObject({ code: 0 });
    expect(seeded.stdout).toContain('Seeded 5 demo donors');
    expect(seeded.stdout).toContain(`http://localhost:${haven.port}/sign-in`);
    const campaign = (await (await fetch(`${haven.url}/api/campaign`)).json()) as { raisedCents: number };
    expect(campaign.raisedCents).toBeGreaterThan(0);

    const migrated = await runScript('migrate', [], { DATA_DIR: dataDir });
    expect(migrated).toMatchObject({ code: 0, stdout: 'Database is up to date.\n' });

    // The families' retention job too: run by the server on its database (issue 17's command).
    const retention = await runScript('purge-family-identities', ['--dry-run'], { DATA_DIR: dataDir });
    expect(retention).toMatchObject({ code: 0 });
    expect(retention.stderr).toContain(`Haven is running on ${dataDir}`);
    expect(retention.stdout).toContain('No family identity is due for deletion within 30 days.');

    // A wrong command line is refused before anything is asked of the server.
    const usage = await runScript('create-staff', ['--email', 'not-an-address'], { DATA_DIR: dataDir });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^Usage: npm run create-staff/);

    // A second server on the same DATA_DIR is refused in one line.
    const second = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'server/main.ts')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(second.status).toBe(1);
    expect(second.stderr.trim()).toBe(`Haven is already running on ${dataDir} (pid ${haven.pid}): stop it first, or give this server its own DATA_DIR.`);

    await haven.stop();
    expect(fs.existsSync(path.join(dataDir, LOCK_FILE))).toBe(false);

    // No server: the script opens the database itself. The account it finds is the one made above.
    const again = await runScript('create-staff', ['--email', 'director@hanvoice.example', '--name', 'Ji-woo Kim'], { DATA_DIR: dataDir, PORT: '4999' });
    expect(again).toMatchObject({ code: 0 });
    expect(again.stdout).toContain('director@hanvoice.example already has a staff account: here is a new link.');
    expect(again.stderr).toBe('');
    expect(linkIn(again.stdout).origin).toBe('http://localhost:4999');
    expect(fs.existsSync(path.join(dataDir, LOCK_FILE))).toBe(false);

    haven = await startHaven({ dataDir });
    const restarted = await open(linkIn(again.stdout), haven.url);
    expect(restarted.status).toBe(200);
    expect(restarted.text).toContain('director@hanvoice.example');
    const after = (await (await fetch(`${haven.url}/api/campaign`)).json()) as { raisedCents: number };
    expect(after.raisedCents).toBe(campaign.raisedCents);
  } finally {
    await haven.stop();
  }
});

test('a script, or a server, refuses in one line while another script holds DATA_DIR', async () => {
  // This test process stands for a long `npm run seed`.
  const lock = acquireDataDirLock(dataDir, 'npm run seed');
  try {
    const refused = await runScript('create-staff', ['--email', 'a@hanvoice.example', '--name', 'A'], { DATA_DIR: dataDir });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr.trim()).toBe(`${dataDir} is in use by \`npm run seed\` (pid ${process.pid}): wait for it to finish, then run this again.`);
    await expect(startHaven({ dataDir, timeoutMs: 30_000 })).rejects.toThrow(`${dataDir} is in use by \`npm run seed\` (pid ${process.pid}): stop it first`);
  } finally {
    lock.release();
  }
});

test('the lock of a server killed with SIGKILL does not stop the next start', async () => {
  const first = await startHaven({ dataDir });
  await first.kill();
  expect(fs.existsSync(path.join(dataDir, LOCK_FILE))).toBe(true);
  const next = await startHaven({ dataDir });
  try {
    expect((await fetch(`${next.url}/healthz`)).status).toBe(200);
  } finally {
    await next.stop();
  }
});
