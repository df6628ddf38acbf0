import { describe, expect, it } from 'vitest';
import {
  PROPORTION_METRICS,
  guardrailMetricName,
  quantileMetricName,
  requestCount,
} from '../../../src/analysis/recorded-metrics.js';

describe('the rules about recorded metrics', () => {
  it('treats the 0/1 metrics as proportions', () => {
    expect([...PROPORTION_METRICS].sort()).toEqual(['correct', 'error']);
  });

  it('counts requests by the error metric’s n, 0 when it is missing', () => {
    const summary = (n: number) => ({ summary: { n, mean: 0.5, variance: 0.25 } });
    expect(requestCount({ error: summary(120), latency_ms: summary(90), abs_error: summary(30) })).toBe(120);
    expect(requestCount({ latency_ms: summary(90) })).toBe(0);
  });

  it('names a quantile the same way for evidence and guardrails', () => {
    expect(quantileMetricName('latency_ms', 0.95)).toBe('latency_ms@q0.95');
    expect(guardrailMetricName({ metric: 'latency_ms', quantile: 0.99 })).toBe(
      quantileMetricName('latency_ms', 0.99),
    );
    expect(guardrailMetricName({ metric: 'error' })).toBe('error');
  });
});
