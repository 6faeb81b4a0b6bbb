import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import express, { type RequestHandler } from 'express';

/**
 * The files pages link by res.locals.assets.<name>: the layout's stylesheet and icon, and the
 * pages' own scripts (a template that writes /static/<file> itself gets the day-long cache).
 */
const VERSIONED_ASSETS = { css: 'haven.css', icon: 'favicon.svg', giveForm: 'give-form.js', givingThanks: 'giving-thanks.js', passkeys: 'passkeys.js' } as const;

export type StaticAssets = {
  /** What pages link: in production each URL carries ?v=<hash of the file>, so it may be cached for a year. */
  urls: Record<keyof typeof VERSIONED_ASSETS, string>;
  /** Serves `dir` (mount under /static). */
  serve: RequestHandler;
};

const YEAR_SECONDS = 365 * 24 * 60 * 60;

/**
 * Static files and their caching. In production a URL whose ?v= is the file's current hash is
 * `immutable` for a year (a new deploy that changes the file changes its URL: the hash is taken
 * when the process starts); any other URL (the pages' own scripts, an old ?v=) is cached for a
 * day, as before. Elsewhere (development, tests) nothing is cached and URLs carry no version, so
 * an edited stylesheet shows on the next reload.
 */
export function staticAssets(dir: string, options: { production: boolean; urlPrefix?: string }): StaticAssets {
  const prefix = options.urlPrefix ?? '/static';
  const versions = new Map<string, string>();
  const urls = {} as StaticAssets['urls'];
  for (const [name, file] of Object.entries(VERSIONED_ASSETS) as [keyof typeof VERSIONED_ASSETS, string][]) {
    if (!options.production) {
      urls[name] = `${prefix}/${file}`;
      continue;
    }
    const version = createHash('sha256').update(fs.readFileSync(path.join(dir, file))).digest('hex').slice(0, 12);
    versions.set(`/${file}`, version);
    urls[name] = `${prefix}/${file}?v=${version}`;
  }
  const serve = express.static(dir, {
    index: false,
    maxAge: options.production ? '1d' : 0,
    setHeaders(res) {
      const req = res.req;
      const version = versions.get(req.path);
      if (version !== undefined && req.query.v === version) res.setHeader('Cache-Control', `public, max-age=${YEAR_SECONDS}, immutable`);
    },
  });
  return { urls, serve };
}
