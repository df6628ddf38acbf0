import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { arenaVersion } from '../package-version.js';
import { policySchema } from '../policy/policy.js';
import type { GatewayApp } from './context.js';
import { RECORD_COMPONENTS } from './routes/ingest.js';

/**
 * Schemas the document lists although no route validates them as a whole: ingestion records (checked one
 * by one, so a bad record is a rejection, not a 400) and the policy (parsed by the policy module, with
 * durations as text).
 */
function extraComponents(): Record<string, unknown> {
  const components: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries({ ...RECORD_COMPONENTS, Policy: policySchema }))
    components[name] = z.toJSONSchema(schema, {
      io: 'input',
      unrepresentable: 'any',
      target: 'draft-2020-12',
    });
  return components;
}

/**
 * The OpenAPI 3.1 document, generated from the routes' zod schemas (the ones that validate requests), served
 * at /openapi.json with a human page at /docs, and committed as docs/openapi.json (`npm run openapi`).
 */
export async function registerOpenApi(app: GatewayApp): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Arena',
        version: arenaVersion(),
        description:
          'Safe rollouts of ML model versions: routing, ingestion, the registry, rollouts and their approvals, alerts and the audit log. Every route but /healthz needs `Authorization: Bearer <token>`; the token carries a tenant (every read and write is scoped to it) and roles (each route names the roles it accepts). The actor of every action is the token’s owner.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearerAuth: [] }],
      tags: [
        { name: 'routing', description: 'Routing decisions and the cacheable routing table.' },
        { name: 'ingestion', description: 'Predictions and feedback from model servers.' },
        { name: 'models', description: 'The registry: models, versions, champions.' },
        { name: 'rollouts', description: 'Rollouts and the people-in-the-loop actions.' },
        { name: 'alerts', description: 'Alerts people act on.' },
        { name: 'experiments', description: 'Experiments: proposal, approval, shadow tests, decisions.' },
        { name: 'retraining', description: 'Retraining jobs.' },
        { name: 'evidence', description: 'Backtest series and drift statistics.' },
        { name: 'audit', description: 'The hash-chained ledger.' },
        { name: 'operations', description: 'Health and metrics.' },
      ],
    },
    transform: jsonSchemaTransform,
    transformObject: (documentObject) => {
      const doc = jsonSchemaTransformObject(documentObject) as {
        components?: { schemas?: Record<string, unknown> };
      };
      const schemas: Record<string, unknown> = { ...doc.components?.schemas, ...extraComponents() };
      // Each registered schema is emitted twice, as output and as input (`…Input`); drop the copies that no
      // operation refers to, which is every one of a schema used only in answers.
      const text = JSON.stringify({ ...doc, components: { ...doc.components, schemas: {} } });
      for (const name of Object.keys(schemas))
        if (name.endsWith('Input') && !text.includes(`"#/components/schemas/${name}"`)) delete schemas[name];
      doc.components = { ...doc.components, schemas };
      return doc as ReturnType<typeof jsonSchemaTransformObject>;
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
