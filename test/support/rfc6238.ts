import { createHmac } from 'node:crypto';

/**
 * Authenticator-app codes computed independently of the server's library (otpauth): RFC 4226's
 * HOTP with RFC 6238's time step, SHA-1, 6 digits, 30 s, from a base32 secret (RFC 4648), as the
 * apps do. Checked against RFC 6238 Appendix B's test vectors in test/accounts/rfc6238.test.ts.
 */
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32Decode(text: string): Buffer {
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const char of text.replace(/=+$/, '').toUpperCase()) {
    const index = BASE32.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${char}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

export function hotp(key: Buffer, counter: number, digits = 6): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', key).update(message).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The code an authenticator app shows at `timestampMs` for a base32 secret. */
export function totpCode(secretBase32: string, timestampMs: number, digits = 6): string {
  return hotp(base32Decode(secretBase32), Math.floor(timestampMs / 1000 / 30), digits);
}
