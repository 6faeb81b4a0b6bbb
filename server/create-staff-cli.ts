import { parseArgs } from 'node:util';
import { createStaffAccount } from './accounts/first-staff';
import { LINK_HOURS } from './accounts/enrolment-links';
import { EmailSchema } from './accounts/users';
import { ConfigError, loadConfig } from './config';
import { openDatabase } from './db/database';
import { migrateToLatest } from './db/migrator';
import { DomainError } from './domain-error';
import { createLogger } from './logger';

const USAGE = 'Usage: npm run create-staff -- --email person@example.org --name "Their Name"';

/** npm run create-staff: the first staff account (or a fresh set-password link for a staff address). */
async function main() {
  const { values } = parseArgs({ options: { email: { type: 'string' }, name: { type: 'string' } }, strict: true });
  const email = EmailSchema.safeParse(values.email ?? '');
  const name = (values.name ?? '').trim();
  if (!email.success || name.length < 1 || name.length > 200) {
    console.error(USAGE);
    process.exit(2);
  }
  const config = loadConfig(process.env);
  const logger = createLogger({ ...config, logLevel: 'warn' });
  const database = await openDatabase(config, logger);
  try {
    await migrateToLatest(database.db);
    const result = await database.db.transaction().execute((trx) => createStaffAccount(trx, { email: email.data, name, publicUrl: config.publicUrl }));
    console.log(result.created ? `Created staff account ${email.data}.` : `${email.data} already has a staff account: here is a new link.`);
    console.log(`Open this link to choose a password and set up a passkey (it works once, for ${LINK_HOURS.new_account} hours):`);
    console.log(`  ${result.link}`);
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  const known = error instanceof ConfigError || error instanceof DomainError;
  console.error(known ? (error as Error).message : `create-staff failed: ${(error as Error).message}`);
  process.exit(1);
});
