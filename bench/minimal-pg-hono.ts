import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import pg from 'pg';
import { dealRowTypes, toDealJson, type DealRow } from './deal-json.ts';

/**
 * The like-for-like baseline for the list benchmark: the same data work as Dealix's
 * `GET /api/v1/deals?limit=50` (one SELECT of 51 rows, mapped to the same JSON deal shape,
 * a page of 50 plus next_cursor) in a minimal Hono + pg handler, without Dealix's layers:
 * no auth, no transaction, no RLS, no validation. It connects as the PostgreSQL superuser to
 * the same embedded database Dealix runs on; the tenant is fixed by the environment.
 * Run as its own process, like the Dealix server and bare Hono.
 *
 * Env: PORT, HOST, DATABASE_URL, TENANT_ID, POOL_MAX (default 10).
 * Prints `listening <port>` on stdout once it accepts connections; exits on SIGTERM/SIGINT.
 */
const port = Number(process.env.PORT ?? 0);
const hostname = process.env.HOST ?? '127.0.0.1';
const connectionString = process.env.DATABASE_URL;
const tenantId = process.env.TENANT_ID;
if (!connectionString || !tenantId) throw new Error('DATABASE_URL and TENANT_ID are required');

const PAGE = 50;

const pool = new pg.Pool({ connectionString, max: Number(process.env.POOL_MAX ?? 10), application_name: 'dealix-bench-minimal', types: dealRowTypes });
pool.on('error', () => undefined);

const app = new Hono().get('/deals', async (c) => {
  const { rows } = await pool.query<DealRow>('SELECT * FROM deals WHERE tenant_id = $1 ORDER BY id DESC LIMIT 51', [tenantId]);
  const data = rows.slice(0, PAGE).map(toDealJson);
  const last = data.at(-1);
  return c.json({ data, next_cursor: rows.length > PAGE && last ? Buffer.from(last.id, 'utf8').toString('base64url') : null });
});

const server = serve({ fetch: app.fetch, port, hostname }, (info) => {
  process.stdout.write(`listening ${info.port}\n`);
});

const stop = () => {
  server.close(() => void pool.end().finally(() => process.exit(0)));
  if ('closeAllConnections' in server) server.closeAllConnections();
  setTimeout(() => process.exit(0), 2_000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
