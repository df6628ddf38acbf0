import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { backtestResultsOfModel } from '../../backtest/result-store.js';
import { driftReportsOfModel } from '../../monitoring/drift-report-store.js';
import { showModel } from '../../registry/registry.js';
import { calendarDate } from '../../validation/calendar-date.js';
import { storableString } from '../../validation/storable-string.js';
import { grantOf, rolesNote } from '../access.js';
import type { GatewayApp, GatewayContext } from '../context.js';
import type { PeopleContext } from '../people-context.js';
import { limitParam } from '../request-validation.js';
import { errorResponses, nameParam, ok } from '../schemas/common.js';
import type { Role } from '../tokens.js';

const day = (d: Date | string): string =>
  typeof d === 'string' ? d.slice(0, 10) : d.toISOString().slice(0, 10);

const backtestWindowSchema = z
  .object({
    version: z.string(),
    windowStart: z.string().describe('YYYY-MM-DD'),
    windowEnd: z.string().describe('YYYY-MM-DD'),
    n: z.number().int(),
    mae: z.number().nullable(),
    mape: z.number().nullable(),
    bias: z.number().nullable(),
  })
  .meta({ id: 'BacktestWindow' });

const driftReportSchema = z
  .object({
    checkId: z.string().nullable(),
    at: z.string(),
    version: z.string().nullable(),
    feature: z.string(),
    method: z.string().describe('psi or ks'),
    statistic: z.number(),
    pValue: z.number().nullable(),
    threshold: z.number().nullable(),
    drifted: z.boolean(),
    windows: z
      .record(z.string(), z.unknown())
      .describe('What was compared: reference, recent window, counts.'),
  })
  .meta({ id: 'DriftReport' });

const modelParams = z.object({ model: nameParam(100) });
const driftQuery = z
  .object({
    since: z.iso.datetime({ offset: true }).optional(),
    limit: storableString(10).optional().describe('1..5000 (default 500).'),
  })
  .strict();
const backtestBody = z
  .object({
    version: nameParam(200).optional().describe('Default: the champion.'),
    asOf: calendarDate.optional().describe('The last day the windows cover; default: the data’s end.'),
    lookbackDays: z.number().int().min(1).max(3650).optional(),
  })
  .strict();
const started = ok(z.object({ workflowId: z.string() }), 'Started; its results are stored as it finishes.');
const readers: Role[] = ['operator', 'approver', 'registrar', 'auditor'];

/** The evidence between rollouts: backtest series and drift statistics, and starting either on demand. */
export function registerEvidenceRoutes(app: GatewayApp, ctx: GatewayContext, people: PeopleContext): void {
  const temporal = people.requireTemporal;

  app.get(
    '/v1/models/:model/backtests',
    {
      onRequest: ctx.requireRole(...readers),
      schema: {
        tags: ['evidence'],
        summary: 'Backtest series',
        description: `The model's stored walk-forward windows (every version), oldest first, at most 200. ${rolesNote(readers)}`,
        params: modelParams,
        response: {
          200: ok(z.array(backtestWindowSchema), 'The windows.'),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const tenantId = grantOf(request).tenantId;
      await showModel(people.knex, request.params.model, tenantId);
      return (await backtestResultsOfModel(people.knex, tenantId, request.params.model)).map((r) => ({
        version: r.version,
        windowStart: day(r.window_start),
        windowEnd: day(r.window_end),
        n: Number(r.n),
        mae: r.mae === null ? null : Number(r.mae),
        mape: r.mape === null ? null : Number(r.mape),
        bias: r.bias === null ? null : Number(r.bias),
      }));
    },
  );

  app.post(
    '/v1/models/:model/backtests',
    {
      onRequest: ctx.requireRole('operator'),
      schema: {
        tags: ['evidence'],
        summary: 'Run a backtest',
        description: `Starts a walk-forward backtest (as \`arena backtest\`); poll GET for its windows. ${rolesNote(['operator'])}`,
        params: modelParams,
        body: backtestBody,
        response: { 202: started, ...errorResponses(400, 401, 403, 404, 413, 415, 503) },
      },
    },
    async (request, reply) => {
      const tenantId = grantOf(request).tenantId;
      const { model } = request.params;
      await showModel(people.knex, model, tenantId);
      const workflowId = `arena-backtest-${model}-${randomBytes(3).toString('hex')}`;
      await temporal().client.workflow.start('backtestWorkflow', {
        taskQueue: temporal().taskQueue,
        workflowId,
        args: [{ tenantId, model, ...request.body }],
      });
      return reply.code(202).send({ workflowId });
    },
  );

  app.get(
    '/v1/models/:model/drift',
    {
      onRequest: ctx.requireRole(...readers),
      schema: {
        tags: ['evidence'],
        summary: 'Drift reports',
        description: `PSI and KS statistics of the model's drift checks, newest first. ${rolesNote(readers)}`,
        params: modelParams,
        querystring: driftQuery,
        response: {
          200: ok(z.array(driftReportSchema), 'The statistics.'),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const tenantId = grantOf(request).tenantId;
      await showModel(people.knex, request.params.model, tenantId);
      const limit = limitParam(request.query.limit, { min: 1, max: 5000 }, 500);
      const rows = await driftReportsOfModel(people.knex, tenantId, request.params.model, {
        limit,
        ...(request.query.since ? { since: new Date(request.query.since) } : {}),
      });
      return rows.map((r) => ({
        checkId: r.check_id,
        at: new Date(r.at).toISOString(),
        version: r.version,
        feature: r.feature,
        method: r.method,
        statistic: Number(r.statistic),
        pValue: r.p_value === null ? null : Number(r.p_value),
        threshold: r.threshold === null ? null : Number(r.threshold),
        drifted: r.drifted,
        windows: r.windows ?? {},
      }));
    },
  );

  app.post(
    '/v1/models/:model/drift-checks',
    {
      onRequest: ctx.requireRole('operator'),
      schema: {
        tags: ['evidence'],
        summary: 'Run a drift check',
        description: `Compares recent traffic with the champion's training profile now (as \`arena drift check\`); poll GET …/drift for its statistics. ${rolesNote(['operator'])}`,
        params: modelParams,
        response: { 202: started, ...errorResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request, reply) => {
      const tenantId = grantOf(request).tenantId;
      const { model } = request.params;
      await showModel(people.knex, model, tenantId);
      const workflowId = `arena-drift-check-${model}-${randomBytes(3).toString('hex')}`;
      await temporal().client.workflow.start('driftCheckWorkflow', {
        taskQueue: temporal().taskQueue,
        workflowId,
        args: [{ tenantId, model }],
      });
      return reply.code(202).send({ workflowId });
    },
  );
}
