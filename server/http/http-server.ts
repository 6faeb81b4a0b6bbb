import http from 'node:http';

/**
 * The HTTP server main.ts listens with. Node's defaults let a client take 60 s to send its
 * headers and 300 s for a whole request, so a few slow connections could hold the server's sockets
 * for minutes; these cut them in seconds (408, connection closed). Forms are small (32 kB at most),
 * so 30 s for a whole request is generous even on a phone. Answers are not limited (a CSV export
 * may stream for longer).
 */
export const SERVER_TIMEOUTS = {
  headersMs: 10_000,
  requestMs: 30_000,
  /** How often Node checks the two above (its default, 30 s, would let them overrun by that much). */
  checkEveryMs: 1_000,
} as const;

export function createHttpServer(app: http.RequestListener): http.Server {
  return http.createServer(
    { headersTimeout: SERVER_TIMEOUTS.headersMs, requestTimeout: SERVER_TIMEOUTS.requestMs, connectionsCheckingInterval: SERVER_TIMEOUTS.checkEveryMs },
    app,
  );
}
