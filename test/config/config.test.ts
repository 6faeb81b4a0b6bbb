import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, loadConfig, withDotEnv } from '../../server/config';

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

describe('TRUST_PROXY', () => {
  test.each([
    [undefined, false],
    ['false', false],
    ['0', false],
    ['true', true],
    ['2', 2],
    ['loopback', ['loopback']],
    ['10.0.0.0/8, 192.168.1.10, fd00::/8', ['10.0.0.0/8', '192.168.1.10', 'fd00::/8']],
    ['172.16.0.0/255.240.0.0', ['172.16.0.0/255.240.0.0']],
  ])('%s reads as %o (Express syntax)', (value, expected) => {
    expect(loadConfig({ TRUST_PROXY: value }).trustProxy).toEqual(expected);
  });

  test.each(['yes', 'nginx', '10.0.0.0/33', '10.0.0/8', '::1/129', '10.0.0.1/8/8', '-1'])('%s is refused, naming the variable', (value) => {
    expect(() => loadConfig({ TRUST_PROXY: value })).toThrow(/^Invalid configuration: TRUST_PROXY must be false, true, a number of hops/);
  });
});

describe('.env', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'haven-dotenv-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('fills in what the environment does not set; the environment wins', () => {
    const file = path.join(dir, '.env');
    fs.writeFileSync(file, '# comment\nPORT=4100\nPUBLIC_URL="https://haven.example.ca"\nLOG_LEVEL=debug\n');
    const config = loadConfig(withDotEnv({ LOG_LEVEL: 'warn' }, file));
    expect(config).toMatchObject({ port: 4100, publicUrl: 'https://haven.example.ca', logLevel: 'warn' });
  });

  test('no .env is no error', () => {
    expect(withDotEnv({ PORT: '1' }, path.join(dir, 'missing.env'))).toEqual({ PORT: '1' });
  });

  test('npm start, the scripts and the server read .env from the working directory', () => {
    const root = path.resolve(__dirname, '../..');
    fs.writeFileSync(path.join(dir, '.env'), 'PORT=not-from-env\n');
    const tsx = pathToFileURL(path.join(root, 'node_modules/tsx/dist/loader.mjs')).href;
    const result = spawnSync(process.execPath, ['--import', tsx, path.join(root, 'server/main.ts')], { cwd: dir, env: { PATH: process.env.PATH }, encoding: 'utf8', timeout: 30_000 });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toMatch(/^Invalid configuration: PORT .*\(got "not-from-env"\)$/);
  });
});

describe('where donors write, send e-transfers and mail cheques (issue 18: the real addresses, from configuration)', () => {
  const production = { NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(32), FAMILY_DATA_KEY: 'ab'.repeat(32), CHARITY_REGISTRATION_NUMBER: '123456789 RR 0001' };

  test.each(['CHARITY_ADDRESS', 'CONTACT_EMAIL'])('production refuses to start without %s (a placeholder would send cheques nowhere)', (name) => {
    const env: Record<string, string> = { ...production, CHARITY_ADDRESS: '1 Real Street, Toronto ON  M5V 1A1', CONTACT_EMAIL: 'giving@hanvoice.ca' };
    delete env[name];
    expect(() => loadConfig(env)).toThrow(new RegExp(`^Invalid configuration: ${name} is required when NODE_ENV=production`));
  });

  test('e-transfers go to CONTACT_EMAIL and cheques to CHARITY_ADDRESS unless set apart', () => {
    const base = { ...production, CHARITY_ADDRESS: '1 Real Street, Toronto ON  M5V 1A1', CONTACT_EMAIL: 'giving@hanvoice.ca' };
    expect(loadConfig(base).contact).toEqual({ email: 'giving@hanvoice.ca', eTransferEmail: 'giving@hanvoice.ca', chequeMailingAddress: '1 Real Street, Toronto ON  M5V 1A1' });
    expect(loadConfig({ ...base, ETRANSFER_EMAIL: 'etransfer@hanvoice.ca', CHEQUE_MAILING_ADDRESS: 'PO Box 5, Toronto ON  M5W 1A1' }).contact).toEqual({
      email: 'giving@hanvoice.ca',
      eTransferEmail: 'etransfer@hanvoice.ca',
      chequeMailingAddress: 'PO Box 5, Toronto ON  M5W 1A1',
    });
  });

  test('a typo in an address is refused with a message naming the variable', () => {
    expect(() => loadConfig({ CONTACT_EMAIL: 'giving at hanvoice.ca' })).toThrow(/^Invalid configuration: CONTACT_EMAIL must be an e-mail address/);
  });
});
