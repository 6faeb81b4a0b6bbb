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

/** A variable of the app replicas' shared environment (the x-app block both app1 and app2 merge in). */
function appVariable(name: string): string | undefined {
  return new RegExp(`^ {4}${name}: (.+)$`, 'm').exec(compose)?.[1];
}

test.each(['SESSION_SECRET', 'CHARITY_REGISTRATION_NUMBER', 'CHARITY_ADDRESS', 'CONTACT_EMAIL', 'FAMILY_DATA_KEY', 'PUBLIC_URL'])('%s has no default: compose refuses to start without it', (name) => {
  expect(appVariable(name)).toMatch(new RegExp(`^\\$\\{${name}:\\?\\S.+\\}$`));
});

test('the app runs in production mode there, where Haven itself refuses the development defaults', () => {
  expect(appVariable('NODE_ENV')).toBe('production');
  expect(() => loadConfig({ NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(32), FAMILY_DATA_KEY: 'ab'.repeat(32) })).toThrow(/CHARITY_REGISTRATION_NUMBER is required/);
});

test('no variable in the file falls back to a literal secret', () => {
  const defaults = [...compose.matchAll(/\$\{(\w+):-([^}]*)\}/g)].map((m) => [m[1], m[2]]);
  expect(defaults).toEqual([
    ['TRUST_PROXY', '1'],
    ['DATABASE_READ_URL', ''],
  ]);
});

test('two app replicas share one configuration behind HAProxy, which alone publishes a port; TRUST_PROXY believes exactly that one hop', () => {
  expect(compose).toMatch(/^x-app: &app$/m);
  expect([...compose.matchAll(/^ {2}(app\d+):\n {4}<<: \*app$/gm)].map((m) => m[1])).toEqual(['app1', 'app2']);
  expect([...compose.matchAll(/^ {4}ports:$/gm)]).toHaveLength(1);
  expect(compose).toMatch(/^ {2}proxy:\n {4}image: haproxy:[\d.]+$/m);
  expect(compose).toContain('./deploy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro');
  expect(loadConfig({ NODE_ENV: 'test', TRUST_PROXY: '1' }).trustProxy).toBe(1);
  const haproxy = fs.readFileSync(path.resolve(__dirname, '../../deploy/haproxy.cfg'), 'utf8');
  expect([...haproxy.matchAll(/^ {2}server (app\d+) \1:3000$/gm)].map((m) => m[1])).toEqual(['app1', 'app2']);
  expect(haproxy).toMatch(/^ {2}option forwardfor$/m);
  expect(haproxy).toMatch(/^ {2}option httpchk GET \/healthz$/m);
});
