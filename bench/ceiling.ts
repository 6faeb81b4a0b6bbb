import express from 'express';

/**
 * The ceiling: the fastest an Express 5 route can answer on this machine, in its own process,
 * with no middleware, database or template. Haven's pages are measured as a share of it; the
 * POST is the same for a webhook delivery (its body read, nothing verified or stored), the
 * ceiling under bench/apply-floor.ts.
 */
const app = express();
app.disable('x-powered-by');
app.get('/', (_req, res) => {
  res.type('text/plain').send('Haven bench ceiling');
});
app.post('/webhooks/stripe', express.raw({ type: 'application/json', limit: '1mb' }), (_req, res) => {
  res.json({ received: true });
});
const server = app.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening ${typeof address === 'object' && address ? address.port : ''}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
