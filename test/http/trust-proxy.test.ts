import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestApp, type TestApp } from '../support/app';
import { requestFrom, startReverseProxy, type RawAnswer, type ReverseProxy } from '../support/reverse-proxy';

/**
 * TRUST_PROXY decides whose address req.ip is, and so what every per-IP limit counts (sign-in,
 * password resets, applications, pledges). Before it existed, Haven trusted X-Forwarded-For from
 * loopback: any local caller could name its own address and skip every per-IP limit; behind a
 * proxy on another address every visitor shared the proxy's. The reference for the proxy's
 * behaviour is nginx's $proxy_add_x_forwarded_for (test/support/reverse-proxy.ts).
 */
jest.setTimeout(120_000);

type Stack = { t: TestApp; server: http.Server; url: string; proxy: ReverseProxy };

async function stack(env: NodeJS.ProcessEnv): Promise<Stack> {
  const t = await createTestApp(env);
  const server = http.createServer(t.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { t, server, url: `http://127.0.0.1:${port}`, proxy: await startReverseProxy(port) };
}

async function close(s: Stack) {
  await s.proxy.close();
  await new Promise((resolve) => s.server.close(resolve));
  await s.t.destroy();
}

let attempt = 0;

/** A sign-in attempt (wrong password, a new address each time, so only the per-IP limit can bite) from `from`. */
async function signInFrom(from: string, base: string, headers: Record<string, string> = {}): Promise<RawAnswer> {
  const page = await requestFrom(from, `${base}/sign-in`, { headers });
  const cookie = (page.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ');
  const token = /<meta name="csrf-token" content="([^"]+)">/.exec(page.text)![1]!;
  attempt += 1;
  const body = new URLSearchParams({ email: `nobody${attempt}@example.org`, password: 'not the password', _csrf: token }).toString();
  return requestFrom(from, `${base}/sign-in`, { method: 'POST', headers: { ...headers, cookie, 'content-type': 'application/x-www-form-urlencoded' }, body });
}

/** The addresses the sign-in limit has counted (rate_limits keys hold the SHA-256 of the subject). */
async function countedAddresses(t: TestApp, candidates: string[]): Promise<string[]> {
  const keys = new Set((await t.db.selectFrom('rate_limits').select('key').where('key', 'like', 'sign-in:ip:%').execute()).map((r) => r.key));
  return candidates.filter((ip) => keys.has(`sign-in:ip:${createHash('sha256').update(ip).digest('base64url')}`));
}

const CANDIDATES = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '203.0.113.9'];

describe('TRUST_PROXY unset (false)', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await stack({});
  });
  afterAll(() => close(s));

  test('a forged X-Forwarded-For from a direct caller is ignored: the socket address is counted', async () => {
    expect(s.t.config.trustProxy).toBe(false);
    const answer = await signInFrom('127.0.0.2', s.url, { 'x-forwarded-for': '203.0.113.9' });
    expect(answer.status).toBe(400);
    expect(await countedAddresses(s.t, CANDIDATES)).toEqual(['127.0.0.2']);
  });
});

describe('TRUST_PROXY=1 behind one proxy', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await stack({ TRUST_PROXY: '1' });
  });
  afterAll(() => close(s));

  test('each visitor is counted at their own address, and what a visitor forges is not believed', async () => {
    await signInFrom('127.0.0.2', s.proxy.url, { 'x-forwarded-for': '203.0.113.9' });
    await signInFrom('127.0.0.3', s.proxy.url);
    expect(await countedAddresses(s.t, CANDIDATES)).toEqual(['127.0.0.2', '127.0.0.3']);
  });

  test('one visitor reaching the per-IP limit does not lock out the others behind the same proxy', async () => {
    let last: RawAnswer | undefined;
    for (let i = 0; i < 31; i++) last = await signInFrom('127.0.0.4', s.proxy.url, { 'x-forwarded-for': `198.51.100.${i}` });
    expect(last!.status).toBe(429);
    expect((await signInFrom('127.0.0.5', s.proxy.url)).status).toBe(400);
  });
});

describe('TRUST_PROXY as subnets', () => {
  let s: Stack;
  beforeAll(async () => {
    // The proxy's own address (it connects from 127.0.0.1; its clients from 127.0.0.2 and up).
    s = await stack({ TRUST_PROXY: '127.0.0.1/32, 10.0.0.0/8' });
  });
  afterAll(() => close(s));

  test('the proxy named by subnet is trusted; the forged entry before it is still not', async () => {
    expect(s.t.config.trustProxy).toEqual(['127.0.0.1/32', '10.0.0.0/8']);
    await signInFrom('127.0.0.3', s.proxy.url, { 'x-forwarded-for': '203.0.113.9' });
    expect(await countedAddresses(s.t, CANDIDATES)).toEqual(['127.0.0.3']);
  });
});
