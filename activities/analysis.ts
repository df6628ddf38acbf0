import type { Knex } from 'knex';
import { sum } from 'simple-statistics';
import { readVersionMetrics, type MetricFigures } from '../src/analysis/rollup-reader.js';
import { histogramQuantile } from '../src/ingest/histogram.js';
import type { Guardrail, Policy } from '../src/policy/policy.js';
import type { AnalysisVerdict } from '../src/rollout/types.js';
import {
  evaluateGate,
  paired,
  quantiles,
  stratified,
  type ArmPair,
  type GatePolicy,
  type GateResult,
  type MetricEvidence,
  type SrmInput,
} from '../src/stats/gate/index.js';
import type { ActivityDeps } from './deps.js';
import { createStageWatch } from './stage-watch.js';

export interface AnalysisWindow {
  /** Stage index; `policy.stages.length` for the post-promotion watch window. */
  index: number;
  from: string;
  to: string;
  mode: 'shadow' | 'canary';
}

export interface AnalyzeInput {
  tenantId: string;
  rolloutId: string;
  seq: number;
  stageIndex: number;
  mode: AnalysisVerdict['mode'];
  model: string;
  champion: string;
  challenger: string;
  windows: AnalysisWindow[];
  policy: Policy;
}

/** Metrics whose mean is a rate of 0/1 events: fed to the gate as counts (score tests for limits). */
const PROPORTIONS = new Set(['error', 'correct']);

type Arm = { figures: Record<string, MetricFigures>; weight: number };
interface Period {
  champion: Arm;
  challenger: Arm;
  paired: boolean;
}

function armData(metric: string, f: MetricFigures) {
  const s = f.summary;
  return PROPORTIONS.has(metric) ? { successes: Math.round(s.mean * s.n), n: s.n } : s;
}

/** Reads one window's figures for both arms, as the mode compares them. */
async function readPeriod(
  knex: Knex,
  bucketMs: number,
  input: AnalyzeInput,
  w: AnalysisWindow,
): Promise<Period> {
  const base = {
    tenantId: input.tenantId,
    model: input.model,
    from: new Date(w.from),
    to: new Date(w.to),
    bucketMs,
  };
  if (w.mode === 'shadow') {
    const [champ, chall] = await Promise.all([
      readVersionMetrics(knex, { ...base, versions: [input.champion], role: 'served' }),
      readVersionMetrics(knex, { ...base, versions: [input.challenger], role: 'shadow' }),
    ]);
    return {
      champion: { figures: champ[input.champion] ?? {}, weight: 1 },
      challenger: { figures: chall[input.challenger] ?? {}, weight: 1 },
      paired: true,
    };
  }
  const figures = await readVersionMetrics(knex, {
    ...base,
    versions: [input.champion, input.challenger],
    role: 'served',
  });
  const stage = input.policy.stages[w.index];
  const weight = stage?.mode === 'canary' ? stage.weight / 100 : input.policy.watch.holdback / 100;
  return {
    champion: { figures: figures[input.champion] ?? {}, weight: 1 - weight },
    challenger: { figures: figures[input.challenger] ?? {}, weight },
    paired: false,
  };
}

/**
 * The watch without a holdback has no concurrent control, so the new champion is compared with itself:
 * its figures before promotion (the last stage, window 0) against those since (window 1). A drift over
 * the day shows up here too, which is why a holdback is the better control when traffic allows.
 */
async function selfBaselinePeriod(knex: Knex, bucketMs: number, input: AnalyzeInput): Promise<Period> {
  const read = async (w: AnalysisWindow | undefined): Promise<Record<string, MetricFigures>> => {
    if (!w) return {};
    const f = await readVersionMetrics(knex, {
      tenantId: input.tenantId,
      model: input.model,
      versions: [input.challenger],
      role: 'served',
      from: new Date(w.from),
      to: new Date(w.to),
      bucketMs,
    });
    return f[input.challenger] ?? {};
  };
  const [before, after] = await Promise.all([read(input.windows[0]), read(input.windows[1])]);
  // Weight 0: there is no traffic split between the two periods, so no sample-ratio check applies.
  return {
    champion: { figures: before, weight: 0 },
    challenger: { figures: after, weight: 0 },
    paired: false,
  };
}

function buildEvidence(
  periods: Period[],
  policy: Policy,
): { metrics: Record<string, MetricEvidence>; srm: SrmInput[]; recorded: Set<string> } {
  const metrics: Record<string, MetricEvidence> = {};
  const recorded = new Set<string>();
  for (const p of periods)
    for (const arm of [p.champion, p.challenger])
      for (const name of Object.keys(arm.figures)) recorded.add(name);

  for (const name of recorded) {
    const shadow = periods.find((p) => p.paired);
    const pairedFigures = shadow?.challenger.figures[name]?.paired;
    if (shadow && pairedFigures && pairedFigures.n > 0 && shadow.champion.figures[name]) {
      metrics[name] = paired(
        pairedFigures,
        shadow.champion.figures[name].summary,
        shadow.challenger.figures[name]!.summary,
      );
      continue;
    }
    const strata: ArmPair[] = [];
    for (const p of periods) {
      const c = p.champion.figures[name];
      const t = p.challenger.figures[name];
      if (c && t) strata.push({ champion: armData(name, c), challenger: armData(name, t) });
    }
    if (strata.length) metrics[name] = stratified(strata);
  }
  // Quantile guardrails compare the observed quantile of the merged histograms (descriptive, see gate.ts).
  for (const g of policy.guardrails) {
    if (g.quantile === undefined) continue;
    const merge = (side: 'champion' | 'challenger') => {
      const hist: Record<string, number> = {};
      let n = 0;
      for (const p of periods) {
        const f = p[side].figures[g.metric];
        if (!f?.histogram) continue;
        for (const [bin, c] of Object.entries(f.histogram)) hist[bin] = (hist[bin] ?? 0) + c;
        n += f.summary.n;
      }
      const value = histogramQuantile(hist, g.quantile!);
      return value === undefined ? undefined : { n, value };
    };
    const c = merge('champion');
    const t = merge('challenger');
    if (c && t) metrics[`${g.metric}@q${g.quantile}`] = quantiles(g.quantile, c, t);
  }
  const srm: SrmInput[] = periods
    .filter((p) => !p.paired && p.challenger.weight > 0 && p.champion.weight > 0)
    .map((p) => ({
      observed: [p.champion.figures.error?.summary.n ?? 0, p.challenger.figures.error?.summary.n ?? 0],
      expectedWeights: [p.champion.weight, p.challenger.weight],
    }))
    .filter((s) => s.observed[0]! + s.observed[1]! > 0);
  return { metrics, srm, recorded };
}

/** One line a person can act on: what failed, or what passed, or why it is still open. */
function summarise(gate: GateResult): string {
  const failing = [...gate.metrics, ...gate.guardrails]
    .filter((v) => v.status === 'fail')
    .map((v) => v.reason);
  if (gate.decision === 'fail' && failing.length) return failing.join(' ');
  if (gate.decision === 'invalid' && gate.srm) return gate.srm.reason;
  if (gate.decision === 'pass') return gate.metrics.map((m) => m.reason).join(' ');
  const open = gate.metrics.filter((m) => m.status !== 'pass').map((m) => m.reason);
  return open.join(' ') || gate.reasons[0] || gate.decision;
}

/**
 * The analysis a rollout runs every interval: figures from rollups only (cost independent of traffic),
 * compared within each stage and combined across stages by inverse-variance weights, judged by the
 * sequential gate (src/stats/gate.ts). Guardrails on metrics nobody records are skipped and said so.
 * Idempotent: the verdict of (rollout, seq) is stored once, and a retry returns the stored one.
 */
export function analysisActivities({ knex, rollupBucketMs, clock }: ActivityDeps) {
  async function analyzeRollout(input: AnalyzeInput): Promise<AnalysisVerdict> {
    const periods =
      input.mode === 'watch' && input.policy.watch.holdback === 0
        ? [await selfBaselinePeriod(knex, rollupBucketMs, input)]
        : await Promise.all(input.windows.map((w) => readPeriod(knex, rollupBucketMs, input, w)));
    const { metrics, srm, recorded } = buildEvidence(periods, input.policy);

    const skipped: string[] = [];
    const guardrails: GatePolicy['guardrails'] = input.policy.guardrails
      .filter((g: Guardrail) => {
        if (recorded.has(g.metric)) return true;
        skipped.push(g.metric);
        return false;
      })
      .map((g) => ({ ...g, metric: g.quantile !== undefined ? `${g.metric}@q${g.quantile}` : g.metric }));
    const primaryMetric =
      input.mode === 'watch'
        ? input.policy.primaryMetric.map((p) => ({
            ...p,
            minImprovement: 0,
            rollbackRelativeDegradation: input.policy.watch.rollbackOnRelativeDegradation,
          }))
        : input.policy.primaryMetric;
    const gate: GateResult = evaluateGate(
      { metrics, ...(srm.length ? { srm } : {}) },
      { primaryMetric, guardrails, analysis: input.policy.analysis },
    );
    const first = gate.metrics[0];
    const n = (side: 'champion' | 'challenger'): number =>
      sum(periods.map((p) => p[side].figures.error?.summary.n ?? 0));
    const verdict: AnalysisVerdict = {
      seq: input.seq,
      at: new Date().toISOString(),
      stageIndex: input.stageIndex,
      mode: input.mode,
      decision: gate.decision,
      action: gate.action,
      reasons: [
        ...gate.reasons,
        ...(skipped.length ? [`not recorded, so not checked: ${skipped.join(', ')}`] : []),
      ],
      summary: summarise(gate),
      samples: { champion: n('champion'), challenger: n('challenger') },
      primary: first
        ? {
            metric: first.metric,
            estimate: first.improvement.estimate,
            ci: first.improvement.interval,
            pValue: first.pValue,
          }
        : undefined,
      details: gate,
    };
    // Idempotent without a read first (a round trip per analysis, thousands a minute with many rollouts):
    // a retry whose verdict is already stored gets that one back, so the workflow sees what was recorded.
    const inserted = await knex('analyses')
      .insert({
        tenant_id: input.tenantId,
        rollout_id: input.rolloutId,
        seq: input.seq,
        stage_index: input.stageIndex,
        decision: verdict.decision,
        result: JSON.stringify(verdict),
      })
      .onConflict(['rollout_id', 'seq'])
      .ignore()
      .returning('seq');
    if (inserted.length > 0) return verdict;
    const stored = await knex('analyses')
      .where({ rollout_id: input.rolloutId, seq: input.seq })
      .first('result');
    return stored.result as AnalysisVerdict;
  }
  return {
    analyzeRollout,
    watchStage: createStageWatch({ analyze: analyzeRollout, now: () => clock().getTime() }),
  };
}
