import { ConfigError, loadConfig } from '../../server/config';

test('charity details have development defaults', () => {
  expect(loadConfig({}).charity).toEqual({
    name: 'HanVoice',
    address: '123 Example Street, Toronto ON  M5V 0A1',
    registrationNumber: '000000000 RR 0000',
    receiptLocation: 'Toronto, Ontario',
    signatoryName: 'Receipting Officer',
    signatoryTitle: 'Authorized signatory, HanVoice',
    serialPrefix: 'HV',
  });
});

test('production needs the real registration number', () => {
  const production = { NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(32), FAMILY_DATA_KEY: 'ab'.repeat(32) };
  expect(() => loadConfig(production)).toThrow(/CHARITY_REGISTRATION_NUMBER is required/);
  expect(loadConfig({ ...production, CHARITY_REGISTRATION_NUMBER: '123456789 RR 0001', CHARITY_ADDRESS: '1 Test Street, Toronto ON  M5V 1A1', CONTACT_EMAIL: 'giving@haven.test' }).charity.registrationNumber).toBe('123456789 RR 0001');
});

test.each([
  [{ CHARITY_REGISTRATION_NUMBER: '12345' }, /^Invalid configuration: CHARITY_REGISTRATION_NUMBER must look like 123456789 RR 0001/],
  [{ RECEIPT_SERIAL_PREFIX: 'hv-1' }, /^Invalid configuration: RECEIPT_SERIAL_PREFIX /],
  [{ CHARITY_NAME: '  ' }, /^Invalid configuration: CHARITY_NAME /],
])('a bad receipt setting (%o) is refused naming the variable', (env, message) => {
  expect(() => loadConfig(env)).toThrow(ConfigError);
  expect(() => loadConfig(env)).toThrow(message);
});
