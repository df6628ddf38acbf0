import { z } from 'zod';
import { predictionInputSchema, feedbackInputSchema } from '../../ingest/records.js';
import { grantOf, rolesNote } from '../access.js';
import type { GatewayApp, GatewayContext } from '../context.js';
import { HttpError } from '../http-error.js';
import { rejectionLabel } from '../metrics.js';
import { errorResponses, ok } from '../schemas/common.js';

const routeBody = z
  .object({
    model: z.string().min(1),
    requestId: z.string().min(1).max(200),
    unit: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe('The unit bucketed (user, store, session); defaults to requestId.'),
    segments: z
      .record(z.string(), z.string())
      .optional()
      .describe('Segment values matched against the routing overrides.'),
  })
  .strict();

export const routeDecisionSchema = z
  .object({
    serve: z.string().describe('The version to serve.'),
    shadow: z
      .array(z.string())
      .describe('Versions to call as well and log as role=shadow; their answers are discarded.'),
    bucket: z.number().int().min(0).max(9999),
    generation: z.number().int().describe('The routing generation the decision was made with.'),
    via: z.enum(['champion', 'challenger', 'segment']),
  })
  .meta({ id: 'RouteDecision' });

export const batchOutcomeSchema = z
  .object({
    accepted: z.number().int().describe('Records stored (now, or before: see duplicates).'),
    duplicates: z
      .number()
      .int()
      .describe('Of the accepted records, those already stored (a retried request).'),
    rejected: z
      .array(z.object({ index: z.number().int(), field: z.string(), reason: z.string() }))
      .describe('Every record not stored, with its index in the batch, the field at fault and why.'),
  })
  .meta({ id: 'BatchOutcome' });

/** Record schemas documented as components: the batch itself is checked record by record by the recorder. */
export const RECORD_COMPONENTS = {
  PredictionRecord: predictionInputSchema,
  FeedbackRecord: feedbackInputSchema,
} as const;

const batchBody = (item: keyof typeof RECORD_COMPONENTS) =>
  z
    .union([z.array(z.unknown()), z.object({ records: z.array(z.unknown()) })], {
      error: 'must be a JSON array of records or { "records": [...] }',
    })
    .describe(
      `A JSON array of ${item} objects (see components), or { "records": [...] }. Each record is checked on its own: bad ones are listed in \`rejected\`, the rest stored.`,
    );

/** Routing decisions and ingestion for model servers (DESIGN.md §4, §12). */
export function registerIngestRoutes(app: GatewayApp, ctx: GatewayContext): void {
  app.post(
    '/v1/route',
    {
      onRequest: ctx.requireRole('ingest', 'operator'),
      schema: {
        tags: ['routing'],
        summary: 'Route one request',
        description: `The routing decision for one request, from the gateway's in-memory table. Clients that route many requests fetch the table once (GET /v1/routing/{model}) and bucket locally instead. ${rolesNote(['ingest', 'operator'])}`,
        body: routeBody,
        response: {
          200: ok(routeDecisionSchema, 'The decision.'),
          ...errorResponses(400, 401, 403, 404, 413, 415),
        },
      },
    },
    async (request) => {
      const { model, requestId, unit, segments } = request.body;
      const tenantId = grantOf(request).tenantId;
      const decision = (await ctx.routerFor(tenantId)).route(model, requestId, { unit, segments });
      ctx.metrics.routeDecisions.inc({ tenant: tenantId, model, via: decision.via });
      return decision;
    },
  );

  for (const kind of ['predictions', 'feedback'] as const) {
    const item = kind === 'predictions' ? 'PredictionRecord' : 'FeedbackRecord';
    app.post(
      `/v1/${kind}`,
      {
        onRequest: ctx.requireRole('ingest'),
        schema: {
          tags: ['ingestion'],
          summary: kind === 'predictions' ? 'Record predictions' : 'Record feedback (actual outcomes)',
          description: `Answers after the accepted records are stored (durable). A record already stored (same natural key) counts as a duplicate, so a retried batch never counts twice. At most the configured batch size per request (413 beyond). ${rolesNote(['ingest'])}`,
          body: batchBody(item),
          response: {
            200: ok(batchOutcomeSchema, 'What was stored and what was refused, record by record.'),
            ...errorResponses(400, 401, 403, 413, 415, 500, 503),
          },
        },
      },
      async (request) => {
        const body = request.body;
        const list = Array.isArray(body) ? body : body.records;
        if (list.length > ctx.maxBatch)
          throw new HttpError(
            413,
            `${list.length} records in one request; at most ${ctx.maxBatch}`,
            'Split the batch.',
          );
        const tenantId = grantOf(request).tenantId;
        const recorder = ctx.recorderFor(tenantId);
        const outcome =
          kind === 'predictions'
            ? await recorder.recordPredictions(list, { durable: true })
            : await recorder.recordFeedbackBatch(list, { durable: true });
        ctx.metrics.batchSize.observe({ kind }, list.length);
        ctx.metrics.records.inc({ kind, tenant: tenantId }, outcome.accepted);
        for (const r of outcome.rejected)
          ctx.metrics.rejects.inc({ kind, tenant: tenantId, field: rejectionLabel(kind, r.field) });
        return outcome;
      },
    );
  }
}
