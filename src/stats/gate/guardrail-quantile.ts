/**
 * Quantile guardrails (p95 latency) compare the observed quantiles, computed from merged log-bucket
 * histograms elsewhere, with the limits directly. This is descriptive: there is no standard error for a
 * histogram quantile here, so minSamples is the only protection against noise, and these checks stay out of
 * the Holm family.
 */
import { StatsInputError } from '../errors.js';
import type { SampleSize } from './findings.js';
import { isPromotionLimit, type GuardrailBuilder } from './guardrail-builder.js';
import type { GuardrailPolicy, QuantileEvidence } from './types.js';

/** `quantile` is the guardrail's own (policy.quantile), which the evidence must be about. */
export function assessQuantileGuardrail(
  builder: GuardrailBuilder,
  policy: GuardrailPolicy,
  quantile: number,
  evidence: QuantileEvidence,
  minSamples: number,
): void {
  if (Math.abs(evidence.quantile - quantile) > 1e-9) {
    throw new StatsInputError(
      `metrics.${policy.metric}.quantile`,
      evidence.quantile,
      `the guardrail is on quantile ${quantile}`,
    );
  }
  for (const arm of ['champion', 'challenger'] as const) {
    const o = evidence[arm];
    if (typeof o?.n !== 'number' || !(o.n >= 0) || !Number.isFinite(o.n)) {
      throw new StatsInputError(`metrics.${policy.metric}.${arm}.n`, o?.n, 'must be a finite count ≥ 0');
    }
    if (typeof o.value !== 'number' || !Number.isFinite(o.value)) {
      throw new StatsInputError(`metrics.${policy.metric}.${arm}.value`, o.value, 'must be a finite number');
    }
  }
  const ch = evidence.challenger;
  const cp = evidence.champion;
  const sample: SampleSize = { kind: 'arms', challenger: ch.n, champion: cp.n };
  const judged = builder.observe(
    {
      analysis: 'quantile',
      champion: { n: cp.n, value: cp.value },
      challenger: { n: ch.n, value: ch.value },
      sample,
    },
    minSamples,
  );
  if (!judged) return;

  for (const kind of ['max', 'rollbackAbove'] as const) {
    const limit = policy[kind];
    if (limit === undefined) continue;
    const breach = ch.value > limit;
    builder.addSettled({
      kind,
      limit,
      status: breach ? 'fail' : 'pass',
      estimate: ch.value,
      finding: { code: 'quantile-level', kind, challenger: ch.value, limit, sample, breach },
    });
  }
  for (const kind of ['maxRelativeIncrease', 'rollbackRelativeIncrease'] as const) {
    const limit = policy[kind];
    if (limit === undefined) continue;
    if (!(cp.value > 0)) {
      builder.addSettled({
        kind,
        limit,
        status: isPromotionLimit(kind) ? 'inconclusive' : 'pass',
        estimate: 0,
        finding: { code: 'quantile-increase-undefined', champion: cp.value },
      });
      continue;
    }
    const increase = ch.value / cp.value - 1;
    const breach = increase > limit;
    builder.addSettled({
      kind,
      limit,
      status: breach ? 'fail' : 'pass',
      estimate: increase,
      finding: {
        code: 'quantile-increase',
        challenger: ch.value,
        champion: cp.value,
        increase,
        limit,
        sample,
        breach,
      },
    });
  }
}
