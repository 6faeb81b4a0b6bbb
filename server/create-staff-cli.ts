import { runCommand } from './commands/run-command';

/** npm run create-staff (server/commands/create-staff.ts). */
void runCommand('create-staff', process.argv.slice(2));
