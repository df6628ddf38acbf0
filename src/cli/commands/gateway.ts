import type { Command } from 'commander';
import { loadEnv } from '../../config/env.js';
import { createLogger } from '../../log.js';
import { resolveEndpoints } from '../../stack/endpoints.js';
import { UserFacingError } from '../../user-error.js';

export function registerGateway(program: Command): void {
  program
    .command('gateway')
    .description('HTTP gateway: routing, prediction and feedback ingestion, /healthz, /metrics')
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
      const port = opts.port !== undefined ? Number(opts.port) : env.ARENA_GATEWAY_PORT;
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new UserFacingError(`--port=${JSON.stringify(opts.port)}: not a port number`, 'Use 0–65535.');
      const { database } = await resolveEndpoints(env);
      const app = await buildGateway({
        databaseUrl: database.url,
        tokens,
        log,
        bucketSeconds: env.ARENA_ROLLUP_BUCKET_SECONDS,
      });
      const address = await app.listen({ port, host: opts.host ?? env.ARENA_GATEWAY_HOST });
      log.info({ address, tokens: tokens.size }, 'gateway listening; Ctrl-C to stop');
      const stop = (): void => {
        void app.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
