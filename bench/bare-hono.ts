import { serve } from '@hono/node-server';
import { Hono } from 'hono';

/**
 * The baseline for the list benchmark: the smallest Hono app on @hono/node-server, run as its
 * own process exactly like the Dealix server is, so both sides share the machine the same way.
 * Prints `listening <port>` on stdout once it accepts connections; exits on SIGTERM/SIGINT.
 */
const port = Number(process.env.PORT ?? 0);
const hostname = process.env.HOST ?? '127.0.0.1';

const app = new Hono().get('/', (c) => c.text('hello'));

const server = serve({ fetch: app.fetch, port, hostname }, (info) => {
  process.stdout.write(`listening ${info.port}\n`);
});

const stop = () => {
  server.close(() => process.exit(0));
  if ('closeAllConnections' in server) server.closeAllConnections();
  setTimeout(() => process.exit(0), 2_000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
