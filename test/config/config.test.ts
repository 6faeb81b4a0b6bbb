import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../server/config';

test('defaults give a working development configuration on the embedded database', () => {
  const config = loadConfig({});
  expect(config).toMatchObject({ port: 3000, databaseUrl: undefined, publicUrl: 'http://localhost:3000', env: 'development' });
  expect(config.dataDir).toBe(path.resolve('./data'));
});

test.each([
  [{ PORT: 'eighty' }, /^Invalid configuration: PORT .*got "eighty"/],
  [{ DATABASE_URL: 'mysql://x' }, /^Invalid configuration: DATABASE_URL must be a postgres:\/\/ .*value hidden/],
  [{ PUBLIC_URL: 'not a url' }, /^Invalid configuration: PUBLIC_URL /],
  [{ LOG_LEVEL: 'loud' }, /^Invalid configuration: LOG_LEVEL /],
  [{ NODE_ENV: 'production' }, /^Invalid configuration: SESSION_SECRET is required/],
])('a bad setting (%o) is refused with a message naming the variable', (env, message) => {
  expect(() => loadConfig(env)).toThrow(ConfigError);
  expect(() => loadConfig(env)).toThrow(message);
});

test('a secret never appears in the message', () => {
  expect(() => loadConfig({ SESSION_SECRET: 'short-secret-value' })).toThrow(/SESSION_SECRET must be at least 32 characters \(value hidden\)/);
});

test('start-up with a bad configuration exits with one line naming the variable', () => {
  const root = path.resolve(__dirname, '../..');
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH, PORT: 'not-a-port' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(result.status).toBe(1);
  expect(result.stderr.trim()).toBe('Invalid configuration: PORT Invalid input: expected number, received NaN (got "not-a-port")');
});
