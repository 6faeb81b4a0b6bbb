import request from 'supertest';
import { createApp } from '../../server/app';
import { createKysely } from '../../server/db/database';
import { createLogger } from '../../server/logger';
import { createTestApp, type TestApp, testConfig } from '../support/app';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.destroy());

test('/healthz answers 200 when the database answers', async () => {
  const res = await request(t.app).get('/healthz').expect(200);
  expect(res.body).toEqual({ status: 'ok', database: 'up' });
});

describe('with the database unreachable', () => {
  // A pool pointed at a loopback port nothing listens on.
  const config = testConfig();
  const db = createKysely('postgres://postgres@127.0.0.1:9/haven', 1);
  const app = createApp({ config, db, logger: createLogger(config) });
  afterAll(() => db.destroy());

  test('/healthz answers 503', async () => {
    const res = await request(app).get('/healthz').expect(503);
    expect(res.body).toEqual({ status: 'unavailable', database: 'down' });
  });

  test('pages answer 503 with a plain message, and the API answers JSON', async () => {
    const page = await request(app).get('/').expect(503);
    expect(page.text).toContain('briefly unavailable');
    expect(page.text).not.toMatch(/ECONNREFUSED|at .*\.ts:\d+/);
    const api = await request(app).get('/api/campaign').expect(503);
    expect(api.body.error.message).toMatch(/unavailable/);
  });
});
