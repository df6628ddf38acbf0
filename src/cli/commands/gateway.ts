import type { Command } from 'commander';
import { ingestTimeWindow, loadEnv } from '../../config/env.js';
import { createLogger } from '../../log.js';
import { resolveEndpoints } from '../../stack/endpoints.js';
import { UserFacingError } from '../../errors.js';
import { integerOption } from '../parse.js';

export function registerGateway(program: Command): void {
  program
    .command('gateway')
    .description(
      'HTTP gateway: routing, ingestion, alerts, rollout actions, model health, /healthz, /metrics',
    )
    .option('--port <port>', 'port (default ARENA_GATEWAY_PORT or 8080)')
    .option('--host <host>', 'interface (default ARENA_GATEWAY_HOST or 127.0.0.1)')
    .action(async (opts: { port?: string; host?: string }) => {
      const env = loadEnv();
      const log = createLogger(env.LOG_LEVEL);
      const { TokenStore } = await import('../../gateway/tokens.js');
      const { buildGateway } = await import('../../gateway/server.js');
      let tokens;
      try {
        tokens = TokenStore.fromEnv(env.ARENA_GATEWAY_TOKENS);
      } catch (err) {
        throw new UserFacingError(
          `ARENA_GATEWAY_TOKENS: ${(err as Error).message}`,
          'Set it to a JSON array like [{"token":"…16+ chars…","name":"model-server","tenant":"default","roles":["ingest"]}].',
          { cause: err },
        );
      }
      if (tokens.size === 0)
        log.warn('no ARENA_GATEWAY_TOKENS configured: every authenticated endpoint will answer 401');
      const port =
        opts.port !== undefined
          ? integerOption('--port', opts.port, { min: 0, max: 65535 })
          : env.ARENA_GATEWAY_PORT;
      const endpoints = await resolveEndpoints(env);
      const { createKnex } = await import('../../db/knex.js');
      const { activeTracing } = await import('../../tracing/tracing.js');
      const { connectClient, temporalClient, temporalTargetFromEnv } =
        await import('../../temporal/connection.js');
      const knex = createKnex(endpoints.database.url, { max: 4 });
      const target = temporalTargetFromEnv(env, endpoints.temporal.address);
      // Alerts and model health work without Temporal; rollout actions answer 503 until it is reachable.
      const connection = await connectClient(target).catch((err: Error) => {
        log.warn(
          { err: err.message },
          'no Temporal connection: rollout actions and alert approvals will answer 503',
        );
        return null;
      });
      const app = await buildGateway({
        databaseUrl: endpoints.database.url,
        tokens,
        log,
        bucketSeconds: env.ARENA_ROLLUP_BUCKET_SECONDS,
        retryForMs: env.ARENA_INGEST_RETRY_SECONDS * 1000,
        shutdownTimeoutMs: env.ARENA_GATEWAY_SHUTDOWN_SECONDS * 1000,
        timeWindow: ingestTimeWindow(env),
        people: {
          knex,
          ...(connection
            ? {
                temporal: {
                  client: temporalClient(connection, target.namespace),
                  taskQueue: env.ARENA_TASK_QUEUE,
                },
              }
            : {}),
        },
      });
      app.addHook('onClose', async () => {
        await knex.destroy();
        await connection?.close();
        // The process exits right after closing: send the spans still buffered.
        await activeTracing()?.shutdown();
      });
      const address = await app.listen({ port, host: opts.host ?? env.ARENA_GATEWAY_HOST });
      log.info({ address, tokens: tokens.size }, 'gateway listening; Ctrl-C to stop');
      // Stop accepting, answer what is in flight, and give up on writes still running after the shutdown
      // timeout (their callers get 503: not acknowledged). The hard exit is the backstop for anything else
      // that hangs (a Temporal call, a knex query), so SIGTERM always ends the process in bounded time.
      const shutdownMs = env.ARENA_GATEWAY_SHUTDOWN_SECONDS * 1000;
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        log.info({ signal, shutdownMs }, 'gateway: stopping');
        setTimeout(() => {
          log.error('gateway: shutdown took too long; exiting');
          process.exit(1);
        }, shutdownMs + 5_000).unref();
        void app.close().then(
          () => process.exit(0),
          (err: Error) => {
            log.error({ err: err.message }, 'gateway: error while stopping');
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
}

export function registerOpenApiCommand(program: Command): void {
  program
    .command('openapi')
    .description("the HTTP API's OpenAPI 3.1 document (what the gateway serves at /openapi.json)")
    .option('--out <file>', 'write it to FILE instead of stdout (npm run openapi writes docs/openapi.json)')
    .action(async (opts: { out?: string }) => {
      const { openApiDocument, openApiText } = await import('../../gateway/openapi-document.js');
      const text = openApiText(await openApiDocument());
      if (!opts.out) {
        process.stdout.write(text);
        return;
      }
      const { writeFile } = await import('node:fs/promises');
      await writeFile(opts.out, text);
      process.stderr.write(`wrote ${opts.out} (${Buffer.byteLength(text)} bytes)\n`);
    });
}
