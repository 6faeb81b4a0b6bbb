import { base32Decode, totpCode } from '../support/rfc6238';

/**
 * The tests' authenticator (test/support/rfc6238.ts) against RFC 6238 Appendix B: SHA-1, the
 * 20-byte ASCII secret "12345678901234567890", 8-digit codes (apps show the last 6).
 */
const RFC_SECRET_BASE32 = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const VECTORS: Array<[seconds: number, code: string]> = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

test('base32 decodes to the RFC secret', () => {
  expect(base32Decode(RFC_SECRET_BASE32).toString('ascii')).toBe('12345678901234567890');
});

test.each(VECTORS)('at %i s the code is %s', (seconds, code) => {
  expect(totpCode(RFC_SECRET_BASE32, seconds * 1000, 8)).toBe(code);
  expect(totpCode(RFC_SECRET_BASE32, seconds * 1000, 6)).toBe(code.slice(2));
});
