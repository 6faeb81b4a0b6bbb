import { runCommand } from '../commands/run-command';

/** npm run rotate-family-key (server/commands/rotate-family-key.ts). */
void runCommand('rotate-family-key', process.argv.slice(2));
