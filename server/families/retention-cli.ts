import { runCommand } from '../commands/run-command';

/** npm run purge-family-identities (server/commands/purge-family-identities.ts). */
void runCommand('purge-family-identities', process.argv.slice(2));
