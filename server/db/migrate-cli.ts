import { runCommand } from '../commands/run-command';

/** npm run migrate (server/commands/migrate.ts). */
void runCommand('migrate', process.argv.slice(2));
