import { ConfigError, loadConfig } from './config/config.ts';
import { createLogger } from './http/logger.ts';
import { startServer, type RunningServer } from './app/start-server.ts';
import { initTelemetry } from './http/telemetry.ts';

/** `npm start`: the product, on embedded PostgreSQL unless DATABASE_URL says otherwise. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`Dealix cannot start: ${error.message}\nSee .env.example for every variable.\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel });
  const telemetry = await initTelemetry({ endpoint: config.otel.endpoint, serviceName: config.otel.serviceName });

  // Handlers go in before startup: a Ctrl-C while PostgreSQL is starting must still stop it,
  // not leave an orphan for the next start to clean up.
  let server: RunningServer | undefined;
  let stopRequested: NodeJS.Signals | undefined;
  let stopping = false;
  const shutdown = () => {
    if (stopping || !server) return;
    stopping = true;
    logger.info({ signal: stopRequested }, 'shutting down');
    server
      .stop()
      .then(() => telemetry.shutdown())
      .then(
        () => {
          logger.info('stopped cleanly');
          process.exit(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, 'unclean shutdown');
          process.exit(1);
        },
      );
  };
  const onSignal = (signal: NodeJS.Signals) => {
    stopRequested ??= signal;
    if (server) shutdown();
    else logger.info({ signal }, 'stop requested during startup; stopping once started');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    server = await startServer(config, logger);
  } catch (error) {
    logger.fatal({ err: error }, 'startup failed');
    process.stderr.write(`\nDealix failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    await telemetry.shutdown().catch(() => undefined);
    process.exit(1);
  }
  if (stopRequested) {
    shutdown();
    return;
  }

  const lines = [
    '',
    `  Dealix is running at ${server.url}`,
    `  API reference:  ${server.url}/docs   (OpenAPI: ${server.url}/openapi.json)`,
    `  Health:         ${server.url}/healthz  ${server.url}/readyz  ${server.url}/metrics`,
  ];
  if (server.demoAdminToken) {
    lines.push(
      '',
      '  Admin token for the demo tenant (slug "demo"):',
      `  ${server.demoAdminToken}`,
      '',
      `  Try: curl -H "Authorization: Bearer <token>" ${server.url}/api/v1/deals`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);
}

await main();
