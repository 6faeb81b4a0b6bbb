import { parseArgs } from 'node:util';
import { charityCalendar } from '../calendar/charity-calendar';
import { migrateToLatest } from '../db/migrator';
import { applyIdentityRetention, retentionSettings } from '../families/retention';
import type { Command } from './command';

const USAGE = 'Usage: npm run purge-family-identities [-- --dry-run]';

function parse(argv: string[]): { dryRun: boolean } | undefined {
  try {
    const { values } = parseArgs({ args: argv, options: { 'dry-run': { type: 'boolean' } }, strict: true });
    return { dryRun: values['dry-run'] ?? false };
  } catch {
    return undefined;
  }
}

/**
 * npm run purge-family-identities: the retention job that Haven also runs hourly, once across processes (families/retention.ts, server/jobs):
 * deletes the identities whose day has come and warns staff of those due within 30 days.
 * --dry-run lists them and changes nothing. Prints family numbers and dates only.
 */
export const purgeFamilyIdentitiesCommand: Command = {
  parse: (argv) => (parse(argv) ? { ok: true } : { ok: false, usage: USAGE }),
  async run(db, config, argv) {
    const input = parse(argv);
    if (!input) return { lines: [USAGE], exitCode: 2 };
    await migrateToLatest(db);
    const today = charityCalendar(config.charityTimeZone).today();
    const run = await applyIdentityRetention(db, retentionSettings(config), today, {
      actor: { userId: null, label: 'npm run purge-family-identities' },
      dryRun: input.dryRun,
    });
    const lines = [`Identities are kept ${config.familyIdentityRetentionMonths} months after a family's support ends. Today is ${today}.`];
    if (run.due.length === 0) lines.push('No family identity is due for deletion within 30 days.');
    for (const family of run.due) {
      const done = run.purged.includes(family.familyId)
        ? 'deleted now'
        : run.warned.includes(family.familyId)
          ? 'staff warned now'
          : input.dryRun
            ? 'dry run: nothing done'
            : family.warned
              ? 'staff already warned'
              : '';
      lines.push(`  family ${family.familyId}: support ended ${family.supportEndedOn} (${family.reason}), deletion on ${family.purgeOn}${done ? ` — ${done}` : ''}`);
    }
    return { lines, exitCode: 0 };
  },
};
