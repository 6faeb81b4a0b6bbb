import { randomBytes } from 'node:crypto';
import type { RequestHandler } from 'express';
import { LRUCache } from 'lru-cache';

/**
 * Data the public pages share between visitors — the campaign's totals and donor wall, a group
 * page's story and totals — reused for a second or so (PUBLIC_CACHE_SECONDS), as DOMAIN.md asks
 * public progress to be "updated coarsely". Without it every anonymous visit to the home page
 * costs five queries, and the database, not the page, sets how many visitors Haven can serve.
 *
 * Staleness is bounded, including after a quiet spell: a value is fresh for half the period;
 * until the whole period has passed it is still served while its replacement loads (so no
 * visitor waits on a warm cache); older than that (nobody asked for a while) it is never served:
 * the visitor waits for a fresh load. Concurrent visits share one load; a load that fails is
 * not kept (the next visit asks again: 503 while the database is down); at most `max` keys.
 * Ages count from when a load started, so they never understate how old the data is.
 *
 * Nothing per-visitor belongs here: sessions, CSRF tokens and anything behind sign-in are never
 * cached. With ttlSeconds 0 (the test default) every call loads.
 */
export type PublicCache<V> = {
  get(key: string): Promise<V>;
  /** Drops a key, after this process changed what it shows (e.g. a group edited its story). */
  forget(key: string): void;
};

/** Milliseconds since some epoch: Date.now, or a test's clock. */
export type Now = () => number;

export function publicCache<V extends object>(ttlSeconds: number, load: (key: string) => Promise<V>, max = 1_000, now: Now = Date.now): PublicCache<V> {
  if (ttlSeconds <= 0) return { get: load, forget: () => undefined };
  const freshMs = (ttlSeconds * 1000) / 2;
  const maxAgeMs = ttlSeconds * 1000;
  type Entry = { value?: V; loadedAt: number; loading?: Promise<V> };
  const entries = new LRUCache<string, Entry>({ max });
  const reload = (key: string, entry: Entry): Promise<V> => {
    if (entry.loading) return entry.loading;
    const startedAt = now();
    entry.loading = load(key)
      .then((value) => {
        entry.value = value;
        entry.loadedAt = startedAt;
        return value;
      })
      .finally(() => {
        entry.loading = undefined;
      });
    return entry.loading;
  };
  return {
    async get(key) {
      let entry = entries.get(key);
      if (!entry) {
        entry = { loadedAt: Number.NEGATIVE_INFINITY };
        entries.set(key, entry);
      }
      const age = now() - entry.loadedAt;
      if (entry.value !== undefined && age < freshMs) return entry.value;
      if (entry.value !== undefined && age < maxAgeMs) {
        reload(key, entry).catch(() => undefined); // served stale meanwhile; a failure is retried by the next visit
        return entry.value;
      }
      return reload(key, entry);
    },
    forget: (key) => void entries.delete(key),
  };
}

type CachedPage = { html: string; renderedAt: number; refreshing: boolean };

/**
 * Whole pages for visitors who are not signed in, for pages everyone sees alike (the campaign
 * page, a group's page): the rendered HTML is kept per language and URL for ttlSeconds, and
 * served to the next visitors with their own CSRF token put in. A visitor with a session, any
 * answer but 200, and any other method are never cached. When a page is out of date the first
 * visitor renders it again while the others are served the previous copy. A copy is fresh for
 * half of ttlSeconds and never served once ttlSeconds old; rendered from data at most ttlSeconds
 * old (publicCache), what a visitor sees is at most twice ttlSeconds behind (two seconds by
 * default), after a quiet spell too.
 *
 * The CSRF token is the only per-visitor part of such a page: it is rendered as a placeholder
 * unguessable by page content (random per process) and replaced on every answer.
 */
export type PublicPageCache = {
  middleware: RequestHandler;
  /** Drops every cached copy of a path (any language or query string). */
  forgetPath(path: string): void;
};

export function publicPageCache(ttlSeconds: number, max = 500, now: Now = Date.now): PublicPageCache {
  const pages = new LRUCache<string, CachedPage>({ max });
  const freshMs = (ttlSeconds * 1000) / 2;
  const maxAgeMs = ttlSeconds * 1000;
  const placeholder = `csrf${randomBytes(16).toString('hex')}`;
  const middleware: RequestHandler = (req, res, next) => {
    if (ttlSeconds <= 0 || req.method !== 'GET' || res.locals.user) return next();
    const token = String(res.locals.csrfToken ?? '');
    const key = `${String(res.locals.locale)} ${req.originalUrl}`;
    const cached = pages.get(key);
    const age = cached ? now() - cached.renderedAt : Number.POSITIVE_INFINITY;
    if (cached && (age < freshMs || (cached.refreshing && age < maxAgeMs))) {
      res.type('html').send(cached.html.replaceAll(placeholder, token));
      return;
    }
    // This visitor renders it again; until the copy is too old the others are served it meanwhile.
    if (cached && age < maxAgeMs) cached.refreshing = true;
    const renderedAt = now();
    // Render with the placeholder, keep a 200's HTML, and answer with this visitor's token.
    res.locals.csrfToken = placeholder;
    const send = res.send.bind(res);
    res.send = (body?: unknown) => {
      res.send = send;
      if (typeof body !== 'string') return send(body);
      if (res.statusCode === 200) pages.set(key, { html: body, renderedAt, refreshing: false });
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
