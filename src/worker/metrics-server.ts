import Fastify from 'fastify';
import type { Registry } from 'prom-client';

/**
 * `/metrics` of a worker on its own address (ARENA_WORKER_METRICS_ADDRESS). A worker has no other HTTP
 * surface, so this is a listener of its own rather than a route of the gateway's. No token: bind it to an
 * address only the scraper reaches (the gateway's /metrics needs the `metrics` role because it is public).
 */
export async function serveWorkerMetrics(
  registry: Registry,
  address: string,
): Promise<{ url: string; close(): Promise<void> }> {
  const [host, port] = [
    address.slice(0, address.lastIndexOf(':')),
    Number(address.slice(address.lastIndexOf(':') + 1)),
  ];
  const app = Fastify({ logger: false });
  app.get('/metrics', async (_request, reply) =>
    reply.header('content-type', registry.contentType).send(await registry.metrics()),
  );
  const url = await app.listen({ host, port });
  return { url: `${url}/metrics`, close: () => app.close() };
}
