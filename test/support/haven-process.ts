import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import type { Db } from '../../server/db/database';
import { withDatabaseName } from './database';

/**
 * Real Haven processes on real PostgreSQL databases, for the benchmarks, the browser tests and
 * the fault tests (which need a process to kill, a port to cut, a page to load).
 */

export const ROOT = path.resolve(__dirname, '../..');

/** The family-data key every Haven process started here runs with (tests may encrypt identities with it). */
export const FAMILY_DATA_KEY = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';

/** The PostgreSQL server these harnesses create their own databases on. */
export function adminUrl(override?: string): string {
  return override || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
}

async function admin(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

export type ServerDatabase = { name: string; url: string; drop(): Promise<void> };

/** A new, empty database (Haven migrates it at start-up), dropped by drop(). */
export async function createServerDatabase(prefix: string, server = adminUrl()): Promise<ServerDatabase> {
  const name = `${prefix}_${Date.now()}_${process.pid}`.toLowerCase();
  await admin(server, `create database ${name}`);
  return {
    name,
    url: withDatabaseName(server, name),
    drop: () => admin(server, `drop database if exists ${name} with (force)`),
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

export type HavenProcess = {
  url: string;
  port: number;
  pid: number;
  child: ChildProcess;
  /** What the process wrote to stderr (and stdout when logs are kept), for failure messages. */
  output(): string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit: no graceful shutdown. */
  kill(): Promise<void>;
};

export type StartOptions = {
  /** A PostgreSQL database; unset runs the embedded one under dataDir. */
  databaseUrl?: string;
  dataDir?: string;
  /** 'built' runs dist/server/main.js (npm run build first); 'source' runs server/main.ts with tsx. */
  mode?: 'built' | 'source';
  port?: number;
  env?: Record<string, string>;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** Keep stdout (the request log) in output(); default discards it. */
  keepLogs?: boolean;
  /** The host name in PUBLIC_URL and url: 'localhost' where passkeys are used (WebAuthn refuses an IP address as its relying party). */
  host?: 'localhost' | '127.0.0.1';
  timeoutMs?: number;
};

export function buildIsCurrent(): boolean {
  return fs.existsSync(path.join(ROOT, 'dist/server/main.js'));
}

/** The heap flags production runs with (npm start, the Dockerfile's CMD): see the Dockerfile. */
export const PRODUCTION_NODE_FLAGS = ['--max-semi-space-size=8', '--max-old-space-size=512'];

/**
 * Whether process `pid` holds the socket listening on `port`. freePort() closes its probe before
 * the child binds, so another test process may take the port meanwhile (a suite's app on
 * listen(0), the Stripe stand-in): its /healthz must not pass for this child's. Linux /proc; assumed
 * elsewhere.
 */
export function listensOn(pid: number, port: number): boolean {
  if (process.platform !== 'linux') return true;
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const listening = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const lines = fs.existsSync(table) ? fs.readFileSync(table, 'utf8').split('\n').slice(1) : [];
    for (const line of lines) {
      // sl local_address rem_address st ... inode: st 0A is LISTEN.
      const columns = line.trim().split(/\s+/);
      if (columns[3] === '0A' && columns[1]?.endsWith(hexPort) && columns[9]) listening.add(columns[9]);
    }
  }
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  return fds.some((fd) => {
    try {
      return listening.has(/^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1] ?? '');
    } catch {
      return false;
    }
  });
}

/** GET /healthz's status on a connection of its own (none kept alive that a later fetch could reuse), or undefined if nothing answers. */
function healthStatus(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/healthz', agent: false, headers: { connection: 'close' }, timeout: 5_000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
  });
}

export async function startHaven(options: StartOptions): Promise<HavenProcess> {
  // A port chosen here may be taken before the child binds it: then the child exits (EADDRINUSE)
  // and starts again on another, unless the caller chose the port.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startHavenOnce(options);
    } catch (error) {
      if (!(error instanceof PortTakenError) || options.port !== undefined || attempt >= 3) throw error;
    }
  }
}

class PortTakenError extends Error {}

async function startHavenOnce(options: StartOptions): Promise<HavenProcess> {
  const port = options.port ?? (await freePort());
  const mode = options.mode ?? 'source';
  const args =
    mode === 'built'
      ? [...PRODUCTION_NODE_FLAGS, ...(options.nodeArgs ?? []), path.join(ROOT, 'dist/server/main.js')]
      : [...(options.nodeArgs ?? []), '--import', 'tsx', path.join(ROOT, 'server/main.ts')];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      NODE_ENV: 'production',
      SESSION_SECRET: 'e2e-bench-and-fault-tests-secret-0123456789',
      CHARITY_REGISTRATION_NUMBER: '123456789 RR 0001', CHARITY_ADDRESS: '1 Test Street, Toronto ON  M5V 1A1', CONTACT_EMAIL: 'giving@haven.test',
      FAMILY_DATA_KEY,
      LOG_LEVEL: 'warn',
      PORT: String(port),
      PUBLIC_URL: `http://${options.host ?? '127.0.0.1'}:${port}`,
      ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
      ...(options.dataDir ? { DATA_DIR: options.dataDir } : {}),
      ...options.env,
    },
    stdio: ['ignore', options.keepLogs ? 'pipe' : 'ignore', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://${options.host ?? '127.0.0.1'}:${port}`;
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await exited;
      const message = `Haven exited during start-up (${child.exitCode ?? child.signalCode}):\n${output}`;
      throw output.includes('EADDRINUSE') ? new PortTakenError(message) : new Error(message);
    }
    // Ready when /healthz answers 200 from a socket this child holds (not a stranger on the port).
    if ((await healthStatus(port)) === 200 && listensOn(child.pid!, port)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Haven did not answer /healthz within ${options.timeoutMs ?? 60_000} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const signal = async (sig: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    await exited;
  };
  return { url, port, pid: child.pid!, child, output: () => output, stop: () => signal('SIGTERM'), kill: () => signal('SIGKILL') };
}

/**
 * Waits until the Haven processes on `db` have applied every Stripe event they stored: the
 * webhook endpoint answers before the effect, so totals are only final once the queue is empty.
 * Fails after `timeoutMs` naming how many are left and why the oldest failed, if they did.
 */
export async function waitForStripeEvents(db: Db, options: { timeoutMs?: number } = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = await db.selectFrom('stripe_events').select((eb) => eb.fn.countAll<number>().as('n')).where('processed_at', 'is', null).executeTakeFirstOrThrow();
    if (Number(left.n) === 0) return;
    if (Date.now() > deadline) {
      const stuck = await db
        .selectFrom('stripe_events')
        .select(['id', 'type', 'attempts', 'last_error'])
        .where('processed_at', 'is', null)
        .orderBy('received_at')
        .limit(3)
        .execute();
      const examples = stuck.map((e) => `${e.id} (${e.type}, ${e.attempts} attempts${e.last_error ? `: ${e.last_error}` : ''})`).join('; ');
      throw new Error(`${left.n} Stripe events were still unprocessed ${timeoutMs / 1000} s after the deliveries; oldest: ${examples}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Resident set size now and at its peak (VmRSS, VmHWM from /proc), in bytes. */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}
