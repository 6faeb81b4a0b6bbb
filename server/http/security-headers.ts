import type { RequestHandler } from 'express';

/**
 * Headers helmet does not set. Permissions-Policy: browser features Haven never uses, refused to
 * every page and to anything a page could embed. Cache-Control: pages for a signed-in person carry
 * personal data (staff and group areas) and link tokens do too (password reset, invitation), so
 * neither a browser's history cache nor a proxy may keep them. A route may still set its own
 * (GET /api/campaign is public data).
 */
export const PERMISSIONS_POLICY = [
  'accelerometer=()',
  'browsing-topics=()',
  'camera=()',
  'display-capture=()',
  'geolocation=()',
  'gyroscope=()',
  'magnetometer=()',
  'microphone=()',
  'payment=()',
  'usb=()',
].join(', ');

export const permissionsPolicy: RequestHandler = (_req, res, next) => {
  res.setHeader('Permissions-Policy', PERMISSIONS_POLICY);
  next();
};

export const PRIVATE_NO_STORE = 'private, no-store';

/** After the session is loaded: every answer to a signed-in person is private, no-store. */
export const privateWhenSignedIn: RequestHandler = (_req, res, next) => {
  if (res.locals.user) res.setHeader('Cache-Control', PRIVATE_NO_STORE);
  next();
};

/** For a route whose page is personal whoever asks (a link carrying a token). */
export const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', PRIVATE_NO_STORE);
  next();
};
