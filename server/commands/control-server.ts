import { randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config';
import type { Db } from '../db/database';
import type { Logger } from '../logger';
import { type CommandResult, COMMANDS, isCommandName } from './commands';

/**
 * The embedded server's command channel: while it holds DATA_DIR, `npm run create-staff`, `seed`
 * and `migrate` cannot open the database themselves (PGlite is one process's, and a second
 * connection to its socket would share, and garble, the server's one session: see
 * test/db/embedded-sessions.test.ts). They ask the server to run the command instead, on its own
 * connection, with its own configuration (so links carry its PUBLIC_URL and port).
 *
 * Loopback only; each request carries the bearer token that only DATA_DIR/haven.lock (mode 0600)
 * holds. POST /commands/<name> with {"argv": [...]} answers {"lines": [...], "exitCode": n}.
 */
export type CommandChannel = { port: number; token: string; close(): Promise<void> };

const MAX_BODY_BYTES = 16 * 1024;

export async function startCommandChannel(deps: { db: Db; config: Config; logger: Logger }): Promise<CommandChannel> {
  const token = randomBytes(32).toString('base64url');
  const expected = Buffer.from(`Bearer ${token}`);

  const answer = (res: http.ServerResponse, status: number, result: CommandResult) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(result));
  };

  const server = http.createServer((req, res) => {
    const name = /^\/commands\/([a-z-]+)$/.exec(req.url ?? '')?.[1];
    const auth = Buffer.from(req.headers.authorization ?? '');
    if (req.method !== 'POST' || !name || !isCommandName(name)) return answer(res, 404, { lines: ['No such command.'], exitCode: 2 });
    if (auth.length !== expected.length || !timingSafeEqual(auth, expected)) return answer(res, 401, { lines: ['Not allowed.'], exitCode: 1 });
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > MAX_BODY_BYTES) req.destroy();
    });
    req.on('end', () => {
      void (async () => {
        let argv: unknown;
        try {
          argv = (JSON.parse(body) as { argv?: unknown }).argv;
        } catch {
          argv = undefined;
        }
        if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) return answer(res, 400, { lines: ['Bad request.'], exitCode: 2 });
        const command = COMMANDS[name];
        const parsed = command.parse(argv);
        if (!parsed.ok) return answer(res, 400, { lines: [parsed.usage], exitCode: 2 });
        deps.logger.info({ command: name }, 'running a command for a local npm script');
        try {
          answer(res, 200, await command.run(deps.db, deps.config, argv));
        } catch (error) {
          deps.logger.warn({ err: error, command: name }, 'a command for a local npm script failed');
          answer(res, 200, { lines: [commandFailure(name, error)], exitCode: 1 });
        }
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    token,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** One line for a failed command: a DomainError's or ConfigError's message as it is, anything else prefixed. */
export function commandFailure(name: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const known = error instanceof Error && ['DomainError', 'ConfigError', 'MigrationError'].includes(error.name);
  return known ? message : `npm run ${name} failed: ${message}`;
}
