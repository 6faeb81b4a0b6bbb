import type { Command } from './command';
import { createStaffCommand } from './create-staff';
import { migrateCommand } from './migrate';
import { purgeFamilyIdentitiesCommand } from './purge-family-identities';
import { rotateFamilyKeyCommand } from './rotate-family-key';
import { seedCommand } from './seed';

export type { Command, CommandResult } from './command';

export const COMMANDS = {
  migrate: migrateCommand,
  seed: seedCommand,
  'create-staff': createStaffCommand,
  'purge-family-identities': purgeFamilyIdentitiesCommand,
  'rotate-family-key': rotateFamilyKeyCommand,
} satisfies Record<string, Command>;

export type CommandName = keyof typeof COMMANDS;

export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}
