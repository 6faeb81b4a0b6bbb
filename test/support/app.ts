import type { Express } from 'express';
import { type AppDeps, createApp } from '../../server/app';
import { type Config, loadConfig } from '../../server/config';
import { createLogger } from '../../server/logger';
import { createTestDatabase, type TestDatabase } from './database';

export type TestApp = TestDatabase & { app: Express; config: Config };

export function testConfig(overrides: NodeJS.ProcessEnv = {}): Config {
  return loadConfig({ NODE_ENV: 'test', PUBLIC_URL: 'http://haven.test', ...overrides });
}

/**
 * createApp on a fresh database: one per test file, destroyed in afterAll. `withDeps` may add
 * to what createApp is given (test/support/giving.ts adds the Stripe event processor).
 */
export async function createTestApp(overrides: NodeJS.ProcessEnv = {}, withDeps: (deps: AppDeps) => AppDeps = (deps) => deps): Promise<TestApp> {
  const database = await createTestDatabase();
  const config = testConfig(overrides);
  const app = createApp(withDeps({ config, db: database.db, logger: createLogger(config) }));
  return { ...database, app, config };
}
