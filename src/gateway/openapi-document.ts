import { createKnex } from '../db/knex.js';
import { buildGateway } from './server.js';
import { TokenStore } from './tokens.js';

/**
 * The gateway's OpenAPI document, generated without a database or Temporal: the routes are registered
 * (nothing connects until a request arrives) and the document is read from them. Key order is stable, so the
 * committed copy (docs/openapi.json) diffs cleanly.
 */
export async function openApiDocument(): Promise<Record<string, unknown>> {
  const unused = 'postgres://openapi-document@127.0.0.1:9/unused';
  const knex = createKnex(unused, { max: 1 });
  const app = await buildGateway({ databaseUrl: unused, tokens: new TokenStore([]), people: { knex } });
  try {
    await app.ready();
    return app.swagger() as unknown as Record<string, unknown>;
  } finally {
    await app.close();
    await knex.destroy();
  }
}

/** The document as committed: two-space JSON with a final newline. */
export const openApiText = (doc: Record<string, unknown>): string => `${JSON.stringify(doc, null, 2)}\n`;
