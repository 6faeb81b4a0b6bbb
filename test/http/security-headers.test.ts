import net from 'node:net';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { createHttpServer, SERVER_TIMEOUTS } from '../../server/http/http-server';
import { PERMISSIONS_POLICY } from '../../server/http/security-headers';
import { createTestApp, type TestApp } from '../support/app';
import { signInAs } from '../support/session';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.destroy());

describe('Cache-Control on pages with personal data', () => {
  test.each(['/staff', '/staff/users', '/staff/invitations', '/'])('%s, signed in as staff: private, no-store', async (path) => {
    const staff = await signInAs(t, 'staff');
    const res = await staff.agent.get(path).expect(200);
    expect(res.headers['cache-control']).toBe('private, no-store');
  });

  test('any page, signed in as a sponsor: private, no-store', async () => {
    const sponsor = await signInAs(t, 'sponsor');
    const res = await sponsor.agent.get('/groups').expect(200);
    expect(res.headers['cache-control']).toBe('private, no-store');
  });

  test.each(['/reset-password?token=x', '/accept-invitation?token=x', '/enrol?token=x'])('%s (a link that carries a token): private, no-store, signed in or not', async (path) => {
    const res = await request(t.app).get(path);
    expect(res.headers['cache-control']).toBe('private, no-store');
  });
});

test('every answer refuses the browser features Haven never uses (Permissions-Policy)', async () => {
  for (const path of ['/', '/sign-in', '/static/haven.css', '/healthz', '/no-such-page']) {
    const res = await request(t.app).get(path);
    expect(res.headers['permissions-policy']).toBe(PERMISSIONS_POLICY);
  }
  expect(PERMISSIONS_POLICY).toMatch(/camera=\(\).*geolocation=\(\).*microphone=\(\).*payment=\(\)/);
});

describe('the lang cookie', () => {
  test('is Secure when PUBLIC_URL is https', async () => {
    const secure = await createTestApp({ PUBLIC_URL: 'https://haven.example.ca' });
    try {
      const res = await request(secure.app).get('/?lang=fr');
      const lang = (res.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('lang='));
      expect(lang).toMatch(/; Secure/);
      expect(lang).toMatch(/; HttpOnly/);
    } finally {
      await secure.destroy();
    }
  });

  test('is not Secure on a plain-http local trial (the browser would drop it)', async () => {
    const res = await request(t.app).get('/?lang=fr');
    const lang = (res.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('lang='));
    expect(lang).not.toMatch(/Secure/);
  });
});

test(`a client that sends its headers too slowly is cut after ${SERVER_TIMEOUTS.headersMs / 1000} s, not Node's 60`, async () => {
  const server = createHttpServer(t.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const started = Date.now();
    const answer = await new Promise<string>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: haven.test\r\n'));
      let text = '';
      // A slow-loris client: one more header line every second, never the blank line that ends them.
      const drip = setInterval(() => socket.writable && socket.write(`X-Slow-${Date.now()}: 1\r\n`), 1000);
      socket.on('data', (c) => (text += c.toString()));
      socket.on('close', () => {
        clearInterval(drip);
        resolve(text);
      });
    });
    const seconds = (Date.now() - started) / 1000;
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(seconds).toBeGreaterThanOrEqual(SERVER_TIMEOUTS.headersMs / 1000 - 0.5);
    expect(seconds).toBeLessThan(SERVER_TIMEOUTS.headersMs / 1000 + 5);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}, 30_000);
