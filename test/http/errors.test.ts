import request from 'supertest';
import { createTestApp, type TestApp } from '../support/app';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.destroy());

test('an unknown page gives the 404 page', async () => {
  const res = await request(t.app).get('/no/such/page').expect(404);
  expect(res.headers['content-type']).toMatch(/text\/html/);
  expect(res.text).toContain('Page not found');
  expect(res.text).toContain('href="/"');
});

test('an unknown API route gives a JSON 404', async () => {
  const res = await request(t.app).get('/api/nothing').expect(404);
  expect(res.body).toEqual({ error: { message: 'Page not found' } });
});

test('malformed JSON is a 400, not a 500', async () => {
  const res = await request(t.app).post('/api/campaign').set('Content-Type', 'application/json').send('{"oops":').expect(400);
  expect(res.body.error.message).toMatch(/could not be read/);
  expect(JSON.stringify(res.body)).not.toMatch(/SyntaxError|at .*\.js:\d+/);
});

test('pages carry a strict Content-Security-Policy and no X-Powered-By', async () => {
  const res = await request(t.app).get('/').expect(200);
  expect(res.headers['content-security-policy']).toContain("script-src 'self'");
  expect(res.headers['content-security-policy']).toContain("style-src 'self'");
  expect(res.headers['x-powered-by']).toBeUndefined();
});

test('the stylesheet is served by Haven itself', async () => {
  const res = await request(t.app).get('/static/haven.css').expect(200);
  expect(res.headers['content-type']).toMatch(/text\/css/);
});

test('a NUL byte in a path parameter is a 400, not a 500 (PostgreSQL text cannot hold one)', async () => {
  const res = await request(t.app).get('/groups/a%00b').expect(400);
  expect(res.text).not.toMatch(/invalid byte sequence|at .*\.ts:\d+/);
});
