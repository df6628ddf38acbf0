import { z } from 'zod';
import { ROUTING_MODES } from '../../routing/table.js';

export const routingEntrySchema = z
  .object({
    tenantId: z.string(),
    model: z.string(),
    champion: z.string().nullable(),
    challenger: z.string().nullable(),
    mode: z.enum(ROUTING_MODES),
    weightBp: z
      .number()
      .int()
      .min(0)
      .max(10_000)
      .describe('The challenger’s share in canary mode, in basis points.'),
    shadow: z.array(z.string()).describe('Extra versions called in shadow.'),
    segmentOverrides: z.array(z.object({ key: z.string(), value: z.string(), version: z.string() })),
    salt: z.string(),
    generation: z.number().int().describe('Grows with every change; also the ETag.'),
  })
  .describe(
    'A model’s routing. bucket = first 8 bytes of SHA-256(UTF-8 "model:salt:unit") as an unsigned big-endian integer mod 10000; the challenger serves when mode is canary and bucket < weightBp; a matching segment override wins first (DESIGN.md §4).',
  )
  .meta({ id: 'RoutingEntry' });

export const versionSchema = z
  .object({
    model: z.string(),
    version: z.string(),
    status: z.string().describe('candidate, shadow, canary, champion, archived, rejected, …'),
    artifactUri: z.string().nullable(),
    artifactDigest: z.string().nullable(),
    training: z.record(z.string(), z.unknown()),
    metrics: z.record(z.string(), z.unknown()),
    parentVersion: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    promotedAt: z.string().nullable().describe('When it last became champion; null if it never has.'),
  })
  .meta({ id: 'ModelVersion' });

export const modelSummarySchema = z
  .object({
    model: z.string(),
    description: z.string().nullable(),
    champion: z.string().nullable(),
    challenger: z.string().nullable(),
    mode: z.enum(ROUTING_MODES),
    versions: z.number().int(),
  })
  .meta({ id: 'ModelSummary' });

export const modelSchema = z
  .object({ model: z.string(), routing: routingEntrySchema, versions: z.array(versionSchema) })
  .meta({ id: 'Model' });

const windowMean = z.object({ n: z.number(), mean: z.number() }).nullable();
const metricTrend = z.object({
  metric: z.string(),
  direction: z.enum(['lower', 'higher']),
  last7d: windowMean,
  previous7d: windowMean,
  last30d: windowMean,
  change: z.number().nullable().describe('Relative change of last7d against previous7d.'),
  trend: z.enum(['improving', 'worsening', 'stable', 'unknown']),
});

export const modelHealthSchema = z
  .object({
    model: z.string(),
    generatedAt: z.string(),
    champion: z
      .object({
        version: z.string(),
        status: z.string(),
        promotedAt: z.string().nullable(),
        baseline: z.number().nullable(),
        primary: metricTrend,
      })
      .nullable(),
    challenger: z
      .object({
        version: z.string(),
        status: z.string(),
        mode: z.string(),
        weightPct: z.number(),
        primary: metricTrend,
      })
      .nullable(),
    rollout: z
      .object({
        rolloutId: z.string(),
        state: z.string(),
        lastAnalysis: z
          .object({
            decision: z.string(),
            summary: z.string(),
            samples: z.object({ champion: z.number(), challenger: z.number() }),
            primary: z
              .object({
                metric: z.string(),
                estimate: z.number(),
                ci: z.array(z.number()),
                pValue: z.number(),
              })
              .optional(),
            at: z.string(),
          })
          .nullable(),
        eligible: z.boolean().describe('Whether the challenger would be promoted on today’s evidence.'),
        confidence: z.number().nullable(),
        eligibility: z.string(),
      })
      .nullable(),
    backtest: z
      .object({
        version: z.string(),
        windowStart: z.string(),
        windowEnd: z.string(),
        n: z.number(),
        mae: z.number().nullable(),
        mape: z.number().nullable(),
        bias: z.number().nullable(),
      })
      .nullable(),
    retrain: z
      .object({
        jobId: z.string(),
        status: z.string(),
        trigger: z.string(),
        candidateVersion: z.string().nullable(),
        finishedAt: z.string().nullable(),
        deployedAt: z.string().nullable(),
      })
      .nullable(),
    monitor: z
      .object({
        version: z.string(),
        baseline: z.object({ metric: z.string(), value: z.number(), source: z.string() }).nullable(),
        checks: z.array(
          z.object({
            check: z.string(),
            tier: z.enum(['ok', 'warning', 'critical']),
            since: z.string(),
            reason: z.string(),
          }),
        ),
      })
      .nullable(),
    alerts: z.object({
      open: z.number().int(),
      bySeverity: z.object({ critical: z.number().int(), warning: z.number().int(), info: z.number().int() }),
      latest: z.array(
        z.object({
          id: z.number(),
          type: z.string(),
          severity: z.string(),
          title: z.string(),
          createdAt: z.string(),
        }),
      ),
    }),
    verdict: z
      .enum(['ok', 'attention', 'critical'])
      .describe('ok: nothing to do; attention: look today; critical: act now.'),
    reasons: z.array(z.string()),
  })
  .describe(
    'The champion and challenger on live evidence, the active rollout, the latest backtest and open alerts.',
  )
  .meta({ id: 'ModelHealth' });
