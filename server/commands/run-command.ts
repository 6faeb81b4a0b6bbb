import { type Config, ConfigError, loadConfig, withDotEnv } from '../config';
import { openDatabase } from '../db/database';
import { DataDirBusyError, type LockHolder } from '../db/data-dir-lock';
import { createLogger } from '../logger';
import { type CommandName, type CommandResult, COMMANDS } from './commands';
import { commandFailure } from './control-server';

/**
 * The npm scripts' entry (server/db/migrate-cli.ts, server/seed.ts, server/create-staff-cli.ts):
 * runs the command on the configured database. On the embedded database while a Haven server holds
 * DATA_DIR, the server runs it (control-server.ts); while another script holds it, one line says so.
 * Exits with the command's code: 0 done, 1 failed, 2 wrong usage.
 */
export async function runCommand(name: CommandName, argv: string[]): Promise<never> {
  const result = await execute(name, argv);
  for (const line of result.lines) (result.exitCode === 0 ? console.log : console.error)(line);
  process.exit(result.exitCode);
}

async function execute(name: CommandName, argv: string[]): Promise<CommandResult> {
  const command = COMMANDS[name];
  const parsed = command.parse(argv);
  if (!parsed.ok) return { lines: [parsed.usage], exitCode: 2 };
  let config: Config;
  try {
    config = loadConfig(withDotEnv(process.env));
  } catch (error) {
    if (error instanceof ConfigError) return { lines: [error.message], exitCode: 1 };
    throw error;
  }
  try {
    const database = await openDatabase(config, createLogger({ ...config, logLevel: 'warn' }), { holder: `npm run ${name}` });
    try {
      return await command.run(database.db, config, argv);
    } finally {
      await database.close();
    }
  } catch (error) {
    if (error instanceof DataDirBusyError) return askHolder(name, argv, error);
    return { lines: [commandFailure(name, error)], exitCode: 1 };
  }
}

async function askHolder(name: CommandName, argv: string[], busy: DataDirBusyError): Promise<CommandResult> {
  const holder: LockHolder = busy.current;
  if (holder.holder !== 'server') {
    return { lines: [`${busy.dataDir} is in use by \`${holder.holder}\` (pid ${holder.pid}): wait for it to finish, then run this again.`], exitCode: 1 };
  }
  if (!holder.control) {
    return { lines: [`Haven is starting on ${busy.dataDir} (pid ${holder.pid}): run this again once it serves pages.`], exitCode: 1 };
  }
  console.error(`Haven is running on ${busy.dataDir} (pid ${holder.pid}, ${holder.control.publicUrl}): it runs this command on its database.`);
  try {
    const response = await fetch(`http://127.0.0.1:${holder.control.port}/commands/${name}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${holder.control.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ argv }),
    });
    return (await response.json()) as CommandResult;
  } catch (error) {
    return { lines: [`Haven (pid ${holder.pid}) holds ${busy.dataDir} but did not answer (${(error as Error).message}): stop it, then run this again.`], exitCode: 1 };
  }
}
