import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { openApiDocument, openApiText } from '../../../src/gateway/openapi-document.js';

interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  security?: unknown[];
  responses: Record<string, { content?: Record<string, unknown> }>;
}

describe('the OpenAPI document', async () => {
  const doc = await openApiDocument();
  const paths = doc.paths as Record<string, Record<string, Operation>>;

  it('is committed as docs/openapi.json exactly as the routes generate it (npm run openapi)', async () => {
    const committed = await readFile(new URL('../../../docs/openapi.json', import.meta.url), 'utf8');
    expect(committed, 'docs/openapi.json is stale: run `npm run openapi` and commit it').toBe(
      openApiText(doc),
    );
  });

  it('describes every operation: summary, description, tag, and the errors every protected route can answer', () => {
    const operations = Object.entries(paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ route: `${method.toUpperCase()} ${path}`, op })),
    );
    expect(operations.length).toBeGreaterThanOrEqual(30);
    for (const { route, op } of operations) {
      expect(op.summary, route).toBeTruthy();
      expect(op.description, route).toBeTruthy();
      expect(op.tags?.length, route).toBeGreaterThan(0);
      const success = Object.keys(op.responses).filter((s) => s.startsWith('2'));
      expect(success.length, `${route} documents a success`).toBeGreaterThan(0);
      if (route === 'GET /healthz') continue;
      // Every protected route says which roles it takes and answers 401 and 403 with the error body.
      expect(op.description, route).toMatch(/role `\w+`/);
      for (const s of ['401', '403']) expect(op.responses[s]?.content, `${route} ${s}`).toBeDefined();
    }
  });

  it('names the bearer scheme, lists the lifecycle the design promises, and the schemas clients need', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(JSON.stringify(doc.components)).toContain('"bearerAuth":{"type":"http","scheme":"bearer"}');
    for (const path of [
      '/v1/routing/{model}',
      '/v1/models/{model}/versions',
      '/v1/models/{model}/champion',
      '/v1/rollouts',
      '/v1/rollouts/{id}/approve',
      '/v1/rollouts/{id}/report',
      '/v1/audit',
    ])
      expect(paths[path], path).toBeDefined();
    const schemas = (doc.components as { schemas: Record<string, unknown> }).schemas;
    for (const name of [
      'RoutingEntry',
      'RolloutStatus',
      'PredictionRecord',
      'FeedbackRecord',
      'Policy',
      'Error',
    ])
      expect(schemas[name], name).toBeDefined();
    expect(paths['/v1/routing/{model}']!.get!.responses['304']).toBeDefined();
  });
});
