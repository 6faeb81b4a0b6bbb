import express from 'express';
import request from 'supertest';
import { staticAssets } from '../../server/http/static-assets';
import { PUBLIC_DIR } from '../../server/paths';
import { createTestApp, type TestApp } from '../support/app';

/**
 * Caching of the layout's static files (issue 18, Lighthouse's uses-long-cache-ttl audit).
 * External reference: RFC 9111 (max-age) and RFC 8246 (the immutable Cache-Control extension).
 */
function mounted(production: boolean) {
  const assets = staticAssets(PUBLIC_DIR, { production });
  const app = express();
  app.use('/static', assets.serve);
  return { app, urls: assets.urls };
}

describe('in production', () => {
  const { app, urls } = mounted(true);

  it('gives the layout versioned URLs, cached for a year as immutable', async () => {
    expect(urls.css).toMatch(/^\/static\/haven\.css\?v=[0-9a-f]{12}$/);
    expect(urls.icon).toMatch(/^\/static\/favicon\.svg\?v=[0-9a-f]{12}$/);
    expect(urls.giveForm).toMatch(/^\/static\/give-form\.js\?v=[0-9a-f]{12}$/);
    for (const url of Object.values(urls)) {
      const res = await request(app).get(url).expect(200);
      expect([url, res.headers['cache-control']]).toEqual([url, 'public, max-age=31536000, immutable']);
    }
  });

  it('caches an unversioned URL, or one whose version is not the file\'s, for a day only', async () => {
    for (const url of ['/static/haven.css', '/static/haven.css?v=000000000000', '/static/give-form.js', `/static/give-form.js?v=${urls.css.split('=')[1]}`]) {
      const res = await request(app).get(url).expect(200);
      expect([url, res.headers['cache-control']]).toEqual([url, 'public, max-age=86400']);
    }
  });
});

it('outside production, links plain URLs that are not cached', async () => {
  const { app, urls } = mounted(false);
  expect(urls).toEqual({ css: '/static/haven.css', icon: '/static/favicon.svg', giveForm: '/static/give-form.js', givingThanks: '/static/giving-thanks.js', passkeys: '/static/passkeys.js' });
  expect((await request(app).get('/static/haven.css').expect(200)).headers['cache-control']).toBe('public, max-age=0');
});

describe('the layout head', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.destroy());

  it('links the stylesheet and icon it is given, and carries a theme colour and a description on a page that passes no share tags', async () => {
    const res = await request(t.app).get('/groups/apply?lang=fr').expect(200);
    const head = res.text.slice(0, res.text.indexOf('</head>'));
    expect(head).toContain('<link rel="stylesheet" href="/static/haven.css">');
    expect(head).toContain('<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">');
    expect(head).toMatch(/<meta name="theme-color" content="#[0-9a-f]{6}">/);
    expect(head.match(/<meta name="description"/g)).toHaveLength(1);
    expect(head).toMatch(/<meta name="description" content="Haven est la campagne de HanVoice[^"]+">/);
  });
});
