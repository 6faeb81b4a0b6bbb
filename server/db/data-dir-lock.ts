import fs from 'node:fs';
import path from 'node:path';

/**
 * One process at a time opens the embedded database: PGlite keeps its files under DATA_DIR and two
 * processes writing them lose data (a CLI's writes vanished when the server stopped, and left rows
 * pointing at users that did not exist). Whoever opens it holds DATA_DIR/haven.lock, created with
 * O_EXCL; it names the holder and, for a running server, where its command channel listens
 * (server/commands/control-server.ts), so `npm run create-staff` and friends can ask the server instead.
 * A lock whose process is gone (killed, crashed) is stale and taken over.
 */
export const LOCK_FILE = 'haven.lock';

export type LockHolder = {
  pid: number;
  /** `server` (npm start, npm run dev) or the npm script holding it (`npm run seed`). */
  holder: string;
  startedAt: string;
  /** A running server's command channel (loopback port and bearer token) and its public address. */
  control?: { port: number; token: string; publicUrl: string };
};

export class DataDirBusyError extends Error {
  override name = 'DataDirBusyError';
  constructor(
    readonly dataDir: string,
    readonly current: LockHolder,
  ) {
    super(`${dataDir} is in use by ${current.holder === 'server' ? 'a running Haven server' : current.holder} (pid ${current.pid})`);
  }
}

export type DataDirLock = {
  /** Rewrites the lock with more about its holder (the server adds its command channel once listening). */
  update(details: Partial<Omit<LockHolder, 'pid'>>): void;
  release(): void;
};

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but another user's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Who holds DATA_DIR now, if a live process does (a stale lock reads as nobody). */
export function readDataDirLock(dataDir: string): LockHolder | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dataDir, LOCK_FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const holder = JSON.parse(text) as LockHolder;
    return Number.isSafeInteger(holder.pid) && holder.pid !== process.pid && isAlive(holder.pid) ? holder : undefined;
  } catch {
    // Half-written by a process that died while writing it.
    return undefined;
  }
}

/** Takes DATA_DIR for this process, or throws DataDirBusyError naming the live holder. */
export function acquireDataDirLock(dataDir: string, holder: string): DataDirLock {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, LOCK_FILE);
  let state: LockHolder = { pid: process.pid, holder, startedAt: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(state), { flag: 'wx', mode: 0o600 });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 2) throw error;
    }
    const current = readDataDirLock(dataDir);
    if (current) throw new DataDirBusyError(dataDir, current);
    fs.rmSync(file, { force: true }); // stale: its process is gone
  }
  let released = false;
  return {
    update(details) {
      state = { ...state, ...details };
      const temporary = `${file}.${process.pid}`;
      fs.writeFileSync(temporary, JSON.stringify(state), { mode: 0o600 });
      fs.renameSync(temporary, file);
    },
    release() {
      if (released) return;
      released = true;
      // Only our own lock: never one a later process took over.
      if (readOwnPid(file) === process.pid) fs.rmSync(file, { force: true });
    },
  };
}

function readOwnPid(file: string): number | undefined {
  try {
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as LockHolder).pid;
  } catch {
    return undefined;
  }
}
