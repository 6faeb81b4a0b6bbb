import { createKysely, type Db } from '../../../server/db/database';
import { adminUrl, createServerDatabase, type HavenProcess, type ServerDatabase, startHaven } from '../../support/haven-process';

/**
 * Everything a browser test talks to: a fresh PostgreSQL database and a real Haven process on
 * it (tsx from source, NODE_ENV=production), plus a Kysely handle to check outcomes in the
 * database. Later stand-ins (Stripe, SMTP) join here so flows get them for free.
 */
export type Stack = {
  baseUrl: string;
  haven: HavenProcess;
  database: ServerDatabase;
  db: Db;
  stop(): Promise<void>;
};

export async function startStack(options: { env?: Record<string, string> } = {}): Promise<Stack> {
  const database = await createServerDatabase('haven_e2e', adminUrl(process.env.E2E_DATABASE_URL));
  let haven: HavenProcess;
  try {
    haven = await startHaven({ databaseUrl: database.url, mode: 'source', env: options.env });
  } catch (error) {
    await database.drop();
    throw error;
  }
  const db = createKysely(database.url, 2);
  return {
    baseUrl: haven.url,
    haven,
    database,
    db,
    async stop() {
      await db.destroy();
      await haven.stop();
      await database.drop();
    },
  };
}
