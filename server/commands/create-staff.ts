import { parseArgs } from 'node:util';
import { createStaffAccount } from '../accounts/first-staff';
import { LINK_HOURS } from '../accounts/enrolment-links';
import { EmailSchema } from '../accounts/users';
import { migrateToLatest } from '../db/migrator';
import type { Command } from './command';

const USAGE = 'Usage: npm run create-staff -- --email person@example.org --name "Their Name"';

function parse(argv: string[]): { email: string; name: string } | undefined {
  try {
    const { values } = parseArgs({ args: argv, options: { email: { type: 'string' }, name: { type: 'string' } }, strict: true });
    const email = EmailSchema.safeParse(values.email ?? '');
    const name = (values.name ?? '').trim();
    return email.success && name.length >= 1 && name.length <= 200 ? { email: email.data, name } : undefined;
  } catch {
    return undefined;
  }
}

/** npm run create-staff: the first staff account (an administrator), or a fresh set-password link for a staff address. */
export const createStaffCommand: Command = {
  parse: (argv) => (parse(argv) ? { ok: true } : { ok: false, usage: USAGE }),
  async run(db, config, argv) {
    const input = parse(argv);
    if (!input) return { lines: [USAGE], exitCode: 2 };
    await migrateToLatest(db);
    const result = await db.transaction().execute((trx) => createStaffAccount(trx, { ...input, publicUrl: config.publicUrl }));
    return {
      lines: [
        result.created ? `Created staff account ${input.email}.` : `${input.email} already has a staff account: here is a new link.`,
        `Open this link to choose a password and set up a passkey (it works once, for ${LINK_HOURS.new_account} hours):`,
        `  ${result.link}`,
      ],
      exitCode: 0,
    };
  },
};
