import { runCommand } from './commands/run-command';

/** npm run seed (server/commands/seed.ts). */
void runCommand('seed', process.argv.slice(2));
