import type { Config } from '../config';
import type { Db } from '../db/database';

/**
 * The npm scripts that work on Haven's database (npm run migrate, seed, create-staff, purge-family-identities, rotate-family-key). Each runs in
 * its own process (run-command.ts) or, when a server already holds the embedded database, inside
 * that server (control-server.ts): the same function either way, so output and links match.
 */
export type CommandResult = { lines: string[]; exitCode: number };

export type Command = {
  /** Checks the command line; a usage message when it is wrong. Runs on both sides. */
  parse(argv: string[]): { ok: true } | { ok: false; usage: string };
  run(db: Db, config: Config, argv: string[]): Promise<CommandResult>;
};
