import { sql } from 'kysely';
import { Router } from 'express';
import type { Db } from '../db/database';
import { allow } from '../http/policy';

/** GET /healthz: 200 when the database answers a query within two seconds, else 503. */
export function healthRoutes(db: Db): Router {
  const router = Router();
  router.get('/healthz', allow.anyone, async (_req, res) => {
    const up = await Promise.race([
      sql`select 1`.execute(db).then(() => true, () => false),
      new Promise<boolean>((resolve) => setTimeout(resolve, 2000, false).unref()),
    ]);
    res.status(up ? 200 : 503).json({ status: up ? 'ok' : 'unavailable', database: up ? 'up' : 'down' });
  });
  return router;
}
