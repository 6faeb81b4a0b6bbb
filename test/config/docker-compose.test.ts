import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../server/config';

/**
 * docker-compose.yml runs Haven with NODE_ENV=production. A value it supplied by default would be
 * a secret everyone can read (SESSION_SECRET keys the CSRF tokens) or a
 * placeholder on official receipts: each must come from the person deploying. Compose's
 * `${VAR:?message}` refuses to start without it (compose-spec interpolation); this checks the file
 * says so for each, since no Docker engine runs here.
 */
const compose = fs.readFileSync(path.resolve(__dirname, '../../docker-compose.yml'), 'utf8');

function appVariable(name: string): string | undefined {
  return new RegExp(`^ {6}${name}: (.+)$`, 'm').exec(compose)?.[1];
}

test.each(['SESSION_SECRET', 'CHARITY_REGISTRATION_NUMBER', 'FAMILY_DATA_KEY', 'PUBLIC_URL'])('%s has no default: compose refuses to start without it', (name) => {
  expect(appVariable(name)).toMatch(new RegExp(`^\\$\\{${name}:\\?\\S.+\\}$`));
});

test('the app runs in production mode there, where Haven itself refuses the development defaults', () => {
  expect(appVariable('NODE_ENV')).toBe('production');
  expect(() => loadConfig({ NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(32), FAMILY_DATA_KEY: 'ab'.repeat(32) })).toThrow(/CHARITY_REGISTRATION_NUMBER is required/);
});

test('no variable in the file falls back to a literal secret', () => {
  const defaults = [...compose.matchAll(/\$\{(\w+):-([^}]*)\}/g)].map((m) => m[1]);
  expect(defaults).toEqual(['TRUST_PROXY']);
});
