import { randomBytes } from 'node:crypto';
import type { RequestHandler } from 'express';
import { LRUCache } from 'lru-cache';

/**
 * Data the public pages share between visitors — the campaign's totals and donor wall, a group
 * page's story and totals — reused for a second or so (PUBLIC_CACHE_SECONDS), as DOMAIN.md asks
 * public progress to be "updated coarsely". Without it every anonymous visit to the home page
 * costs five queries, and the database, not the page, sets how many visitors Haven can serve.
 *
 * lru-cache does the hard parts: concurrent visits for one key share one load, a stale value is
 * served while its replacement loads (so no visitor waits on the database once it is warm), a
 * load that fails is not cached (the next visit asks again: 503 while the database is down, at
 * most one second after it goes), and at most `max` keys are kept.
 *
 * Nothing per-visitor belongs here: sessions, CSRF tokens and anything behind sign-in are never
 * cached. With ttlSeconds 0 (the test default) every call loads.
 */
export type PublicCache<V> = {
  get(key: string): Promise<V>;
  /** Drops a key, after this process changed what it shows (e.g. a group edited its story). */
  forget(key: string): void;
};

export function publicCache<V extends object>(ttlSeconds: number, load: (key: string) => Promise<V>, max = 1_000): PublicCache<V> {
  if (ttlSeconds <= 0) return { get: load, forget: () => undefined };
  const cache = new LRUCache<string, V>({
    max,
    ttl: ttlSeconds * 1000,
    allowStale: true,
    fetchMethod: (key) => load(key),
  });
  return {
    async get(key) {
      const value = await cache.fetch(key);
      if (value === undefined) return load(key); // only if the entry was evicted mid-load
      return value;
    },
    forget: (key) => void cache.delete(key),
  };
}

type CachedPage = { html: string; expiresAt: number; refreshing: boolean };

/**
 * Whole pages for visitors who are not signed in, for pages everyone sees alike (the campaign
 * page, a group's page): the rendered HTML is kept per language and URL for ttlSeconds, and
 * served to the next visitors with their own CSRF token put in. A visitor with a session, any
 * answer but 200, and any other method are never cached. When a page is out of date the first
 * visitor renders it again while the others are served the previous copy. Rendered from data
 * that may itself be ttlSeconds old (publicCache), what a visitor sees is at most about twice
 * ttlSeconds behind: two seconds by default.
 *
 * The CSRF token is the only per-visitor part of such a page: it is rendered as a placeholder
 * unguessable by page content (random per process) and replaced on every answer.
 */
export type PublicPageCache = {
  middleware: RequestHandler;
  /** Drops every cached copy of a path (any language or query string). */
  forgetPath(path: string): void;
};

export function publicPageCache(ttlSeconds: number, max = 500): PublicPageCache {
  const pages = new LRUCache<string, CachedPage>({ max });
  const placeholder = `csrf${randomBytes(16).toString('hex')}`;
  const middleware: RequestHandler = (req, res, next) => {
    if (ttlSeconds <= 0 || req.method !== 'GET' || res.locals.user) return next();
    const token = String(res.locals.csrfToken ?? '');
    const key = `${String(res.locals.locale)} ${req.originalUrl}`;
    const cached = pages.get(key);
    const now = Date.now();
    if (cached && (cached.expiresAt > now || cached.refreshing)) {
      res.type('html').send(cached.html.replaceAll(placeholder, token));
      return;
    }
    if (cached) cached.refreshing = true;
    // Render with the placeholder, keep a 200's HTML, and answer with this visitor's token.
    res.locals.csrfToken = placeholder;
    const send = res.send.bind(res);
    res.send = (body?: unknown) => {
      res.send = send;
      if (typeof body !== 'string') return send(body);
      if (res.statusCode === 200) pages.set(key, { html: body, expiresAt: Date.now() + ttlSeconds * 1000, refreshing: false });
      else if (cached) pages.delete(key);
      return send(body.replaceAll(placeholder, token));
    };
    res.once('close', () => {
      if (cached?.refreshing && pages.get(key) === cached) cached.refreshing = false; // the render failed: let the next visitor try
    });
    next();
  };
  return {
    middleware,
    forgetPath(path) {
      for (const key of [...pages.keys()]) {
        const url = key.slice(key.indexOf(' ') + 1);
        if (url === path || url.startsWith(`${path}?`)) pages.delete(key);
      }
    },
  };
}
