import type { Guardrail, Policy } from '../policy/policy.js';
import type { AnalysisVerdict } from '../rollout/types.js';
import { evaluateGate, summarizeGate, type GatePolicy, type GateResult } from '../stats/gate/index.js';
import type { AnalyzeInput } from './analyze-input.js';
import { capPeriods } from './capping.js';
import { buildEvidence, requestSamples } from './evidence.js';
import type { MetricSource } from './metric-source.js';
import { readPeriods, type Period } from './periods.js';
import { addPrometheusFigures } from './prometheus-figures.js';
import { guardrailMetricName } from './recorded-metrics.js';
import { segmentCheckPolicy } from './segment-check.js';
import { readSegmentEvidence } from './segment-evidence.js';

/**
 * The analysis a rollout runs every interval: figures from a metric source, compared within each stage and
 * combined across stages by inverse-variance weights, judged by the sequential gate (src/stats/gate/).
 * Guardrails on metrics nobody records are skipped and said so. `now` stamps the verdict once it is judged.
 */
export async function analyze(
  input: AnalyzeInput,
  source: MetricSource,
  now: () => Date,
): Promise<AnalysisVerdict> {
  const [read, segmentEvidence] = await Promise.all([
    readPeriods(source, input),
    readSegmentEvidence(source, input),
  ]);
  const capped = await capPeriods(source, input, read);
  const { caps } = capped;
  const { periods, notes, errors } = await addPrometheusFigures(input, capped.periods);
  const { metrics, srm, recorded } = buildEvidence(periods, input.policy.guardrails);
  const { guardrails, skipped } = checkedGuardrails(input.policy.guardrails, recorded);
  const primaries = comparedPrimaries(primaryMetricFor(input), periods);
  const segmentCheck = segmentEvidence ? segmentCheckPolicy(input.policy) : undefined;
  const gate: GateResult = evaluateGate(
    {
      metrics,
      ...(srm.length ? { srm } : {}),
      ...(segmentEvidence ? { segments: segmentEvidence.segments } : {}),
    },
    {
      primaryMetric: primaries.compared,
      guardrails,
      analysis: input.policy.analysis,
      ...(segmentCheck ? { segmentCheck } : {}),
    },
  );
  const exclude = gate.decision === 'pass' ? (gate.segments?.exclude ?? []) : [];
  const first = gate.metrics[0];
  return {
    seq: input.seq,
    at: now().toISOString(),
    stageIndex: input.stageIndex,
    mode: input.mode,
    decision: gate.decision,
    action: gate.action,
    reasons: [
      ...gate.reasons,
      ...(skipped.length ? [`not recorded, so not checked: ${skipped.join(', ')}`] : []),
      ...(primaries.skipped.length
        ? [`not read from its source in these windows, so not compared: ${primaries.skipped.join(', ')}`]
        : []),
      ...caps.map((c) => c.note),
      ...notes,
      ...(segmentEvidence?.note ? [segmentEvidence.note] : []),
    ],
    summary: summarizeGate(gate),
    samples: requestSamples(periods),
    primary: first
      ? {
          metric: first.metric,
          estimate: first.improvement.estimate,
          ci: first.improvement.interval,
          pValue: first.pValue,
        }
      : undefined,
    details: gate,
    ...(caps.length ? { caps } : {}),
    ...(errors.length ? { sourceErrors: errors } : {}),
    ...(exclude.length && input.policy.segments?.key
      ? { partialAdoption: { key: input.policy.segments.key, exclude } }
      : {}),
  };
}

/** The guardrails on recorded metrics, named as the evidence names them, and the metrics of the others. */
function checkedGuardrails(
  all: readonly Guardrail[],
  recorded: ReadonlySet<string>,
): { guardrails: NonNullable<GatePolicy['guardrails']>; skipped: string[] } {
  const skipped: string[] = [];
  const guardrails = all
    .filter((g) => {
      if (recorded.has(g.metric)) return true;
      skipped.push(g.metric);
      return false;
    })
    .map((g) => ({ ...g, metric: guardrailMetricName(g) }));
  return { guardrails, skipped };
}

/**
 * A primary metric from a metric source (Prometheus) has figures only where both arms served at once
 * (canary stages, a watch with holdback; prometheus-figures.ts): elsewhere it is left out of the gate,
 * which the policy schema allows only beside a primary metric from Arena's records. Where it is read but
 * Prometheus had no data, it is compared, and waits.
 */
function comparedPrimaries(
  all: Policy['primaryMetric'],
  periods: readonly Period[],
): { compared: Policy['primaryMetric']; skipped: string[] } {
  const read = (name: string): boolean =>
    periods.some((p) => p.champion.figures[name] !== undefined && p.challenger.figures[name] !== undefined);
  const compared = all.filter((m) => m.source === undefined || read(m.name));
  return {
    compared,
    skipped: all.filter((m) => !compared.includes(m)).map((m) => m.name),
  };
}

/**
 * After promotion the new champion need not improve on anything any more, only not degrade: the watch
 * rolls back on the policy's watch threshold instead of the stages' one.
 */
function primaryMetricFor(input: AnalyzeInput): Policy['primaryMetric'] {
  if (input.mode !== 'watch') return input.policy.primaryMetric;
  return input.policy.primaryMetric.map((p) => ({
    ...p,
    minImprovement: 0,
    rollbackRelativeDegradation: input.policy.watch.rollbackOnRelativeDegradation,
  }));
}
