import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../logger';

declare module 'http' {
  interface IncomingMessage {
    /** This request's id: in its log lines, its X-Request-Id header, and the 500 page. */
    id: string;
    /** The app's logger bound to this request's id (made when first used). */
    log: Logger;
  }
}

/** Paths that carry a secret token (receipt downloads) are logged without it. */
export function redactPathTokens(path: string): string {
  return path.replace(/^\/receipts\/[^/]+/, '/receipts/:token');
}

/**
 * One line per answered request — id, method, path (no query string, no tokens), status, ms —
 * at info, or error for a 5xx; and req.log for handlers, the app's (redacting) logger bound to
 * the request id. Built here rather than with pino-http because, under load, pino-http's child
 * logger per request and its redaction of every request line were an eighth of the campaign
 * page's CPU time (npm run bench, --cpu-prof); these lines hold only the fields above.
 */
export function requestLog(logger: Logger, options: { skip(path: string): boolean }): RequestHandler {
  const lines = logger.child({}, { redact: [] });
  return (req, res, next) => {
    const id = randomUUID();
    req.id = id;
    res.setHeader('X-Request-Id', id);
    let bound: Logger | undefined;
    Object.defineProperty(req, 'log', { configurable: true, get: () => (bound ??= logger.child({ reqId: id })) });
    const path = req.path;
    if (options.skip(path)) return next();
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const ms = Math.round(Number(process.hrtime.bigint() - started) / 10_000) / 100;
      const line = { reqId: id, method: req.method, path: redactPathTokens(path), status: res.statusCode, ms };
      if (res.statusCode >= 500) lines.error(line, 'request failed');
      else lines.info(line, 'request');
    });
    next();
  };
}
