/**
 * A/A and power panel for heavy-tailed metrics (issue #23). bench/stats-simulation.ts checks the gate on
 * half-normal absolute errors only; real metrics are far more skewed, and the confidence sequence and every
 * Welch-type test lean on a near-normal sample mean. This panel runs the gate (policy defaults of DESIGN.md
 * §7, minImprovement 0, "lower is better") on identical arms drawn from each distribution of
 * aa-panel/distributions.ts, at 100 and 1,000 observations per arm per look, 50 looks, and reports per
 * configuration the gate's false-pass rate, the confidence sequence's any-look rejection rate and naive
 * Welch's any-look rejection rate (the baseline). Power: a true 5% improvement on lognormal σ=2.
 *
 * The zero-inflated distribution is 90% exact zeros, the rest lognormal σ=1. Bernoulli p=0.001 goes to the
 * gate as counts `{ successes, n }`, as src/analysis/evidence.ts feeds proportion metrics.
 *
 * Seeded (each configuration has its own seed derived from the base seed and its place in the panel), so
 * every run gives the same figures; `npm run bench -- aa-panel`, or `npx tsx bench/aa-panel.ts` for the
 * table alone. The Markdown table goes to stderr for docs/statistics.md.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PANEL_DISTRIBUTIONS, lognormal, type Distribution } from './aa-panel/distributions.js';
import {
  ALPHA,
  horizonOf,
  runAa,
  runPower,
  type AaRates,
  type PanelConfig,
  type PowerFigures,
} from './aa-panel/simulate.js';
import { benchResult, type BenchResult } from './result.js';

export interface AaPanelOptions {
  /** Rollouts per configuration (default 1,000). */
  rollouts?: number;
  looks?: number;
  /** Observations per arm per look, one configuration each (default 100 and 1,000). */
  perLook?: readonly number[];
  /**
   * The same for the power rows (default 100, 1,000 and 10,000): on lognormal σ=2 the skewness floor and
   * the sequential interval need hundreds of thousands of observations, which the A/A sizes never reach.
   */
  powerPerLook?: readonly number[];
  distributions?: readonly Distribution[];
  seed?: number;
}

export interface AaRow {
  config: PanelConfig;
  rates: AaRates;
}

export interface PowerRow {
  config: PanelConfig;
  figures: PowerFigures;
}

export interface Panel {
  aa: AaRow[];
  power: PowerRow[];
}

const IMPROVEMENT = 0.05;
const POWER_SIGMA = 2;

const CAP_QUANTILE = 0.999;

const label = (c: PanelConfig): string =>
  `${c.distribution.name}${c.cap ? `, capped at p${c.cap.quantile * 100}` : ''}, ${c.perLook}/look`;

/** The champion's CAP_QUANTILE, as the policy `cap: { quantile: 0.999 }` sets it from a long history. */
function capOf(d: Distribution): PanelConfig['cap'] {
  if (!d.quantile) throw new Error(`${d.name} has no closed-form quantile to cap at`);
  return { quantile: CAP_QUANTILE, value: d.quantile(CAP_QUANTILE) };
}

/** Every configuration of the panel, A/A and power, without timing: deterministic for a seed. */
export function runPanel(options: AaPanelOptions = {}): Panel {
  const rollouts = options.rollouts ?? 1000;
  const looks = options.looks ?? 50;
  const perLook = options.perLook ?? [100, 1000];
  const distributions = options.distributions ?? PANEL_DISTRIBUTIONS;
  const seed = options.seed ?? 20261202;
  let index = 0;
  const configFor = (distribution: Distribution, n: number, cap?: PanelConfig['cap']): PanelConfig => ({
    distribution,
    perLook: n,
    looks,
    rollouts,
    seed: seed + 7919 * index++,
    minImprovement: 0,
    ...(cap ? { cap } : {}),
  });
  const aa: AaRow[] = [];
  for (const n of perLook) {
    for (const d of distributions) {
      const config = configFor(d, n);
      aa.push({ config, rates: runAa(config) });
    }
  }
  // Capping is opt-in per metric: the A/A rows above are uncapped; these check that a capped metric keeps
  // the gate's false-pass rate too (both arms are capped at one value, so they stay identical).
  const powerMetric = lognormal(POWER_SIGMA);
  if (options.distributions === undefined)
    for (const n of perLook) {
      const config = configFor(powerMetric, n, capOf(powerMetric));
      aa.push({ config, rates: runAa(config) });
    }
  const power: PowerRow[] = [];
  for (const n of options.powerPerLook ?? [...perLook, 10_000]) {
    for (const cap of [undefined, capOf(powerMetric)]) {
      const config = configFor(powerMetric, n, cap);
      power.push({ config, figures: runPower(config, IMPROVEMENT) });
    }
  }
  return { aa, power };
}

const fmt = (x: number): string => x.toFixed(3);

/** The A/A panel as a Markdown table (for docs/statistics.md). */
export function panelTable(panel: Panel): string {
  const lines = [
    '| configuration | gate false pass | sequential any-reject | … once above the skewness floor | naive Welch any-reject |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const { config, rates } of panel.aa) {
    lines.push(
      `| ${label(config)} | ${fmt(rates.gateFalsePass)} | ${fmt(rates.sequentialAnyReject)} | ${fmt(rates.sequentialAboveFloor)} | ${fmt(rates.naiveAnyReject)} |`,
    );
  }
  return lines.join('\n');
}

export function powerTable(panel: Panel): string {
  const lines = [
    '| power configuration | gate passes | median observations at pass | gate rolls back | fixed-horizon pass |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const { config, figures } of panel.power) {
    lines.push(
      `| ${label(config)} | ${fmt(figures.passShare)} | ${Number.isNaN(figures.medianObservations) ? '–' : figures.medianObservations.toLocaleString('en-US')} | ${fmt(figures.failShare)} | ${fmt(figures.fixedHorizonPass)} |`,
    );
  }
  return lines.join('\n');
}

function worst(rows: readonly AaRow[], by: (r: AaRates) => number): AaRow {
  return rows.reduce((a, b) => (by(b.rates) > by(a.rates) ? b : a));
}

export async function runAaPanelBench(options: AaPanelOptions = {}): Promise<BenchResult[]> {
  const started = performance.now();
  const panel = runPanel(options);
  const seconds = (performance.now() - started) / 1000;
  process.stderr.write(
    `\nA/A panel (${seconds.toFixed(1)} s):\n\n${panelTable(panel)}\n\n${powerTable(panel)}\n\n`,
  );

  const first = panel.aa[0]?.config;
  if (first === undefined) return [];
  const design =
    `${first.rollouts} A/A rollouts per configuration × ${first.looks} looks; ` +
    `${panel.aa.length} configurations (${[...new Set(panel.aa.map((r) => r.config.distribution.name))].join('; ')}) ` +
    `× ${[...new Set(panel.aa.map((r) => r.config.perLook))].join(' and ')} observations per arm per look; ` +
    `policy defaults (alpha ${ALPHA}, minSamples 1000, rollbackRelativeDegradation 0.05, tuningN = horizon) ` +
    `with minImprovement 0, direction lower; base seed ${options.seed ?? 20261202}; whole family ${seconds.toFixed(1)} s`;

  // The rare-event proportion fails for its own reason (zero events in an arm); the worst over the
  // per-request (non-count) metrics is reported apart so that the skewness work can be judged on its own.
  const continuous = panel.aa.filter((r) => !r.config.distribution.counts);
  const rows: BenchResult[] = [];
  for (const [suffix, scope, among] of [
    ['', 'the panel', panel.aa],
    ['_continuous', 'the per-request metrics (all but Bernoulli counts)', continuous],
  ] as const) {
    if (among.length === 0) continue;
    const gate = worst(among, (r) => r.gateFalsePass);
    const seq = worst(among, (r) => r.sequentialAnyReject);
    const floored = worst(among, (r) => r.sequentialAboveFloor);
    rows.push(
      benchResult(
        `aa_panel_worst_gate_false_pass${suffix}`,
        gate.rates.gateFalsePass,
        'fraction of A/A rollouts',
        'naive Welch at alpha 0.05 at every look, same configuration',
        gate.rates.naiveAnyReject,
        `worst over ${scope}: ${label(gate.config)} (gate rolled back ${fmt(gate.rates.gateFalseFail)}); ` +
          `goal ≤ ${ALPHA}; the gate promotes an identical challenger at some look. ${design}`,
      ),
      benchResult(
        `aa_panel_worst_sequential_any_reject${suffix}`,
        seq.rates.sequentialAnyReject,
        'fraction of A/A rollouts',
        'naive Welch at alpha 0.05 at every look, same configuration',
        seq.rates.naiveAnyReject,
        `worst over ${scope}: ${label(seq.config)}; goal ≤ ${ALPHA}; the confidence sequence on the ` +
          `relative lift excludes 0 at some look (from the first look, before minSamples). ${design}`,
      ),
      benchResult(
        `aa_panel_worst_sequential_above_floor${suffix}`,
        floored.rates.sequentialAboveFloor,
        'fraction of A/A rollouts',
        'naive Welch at alpha 0.05 at every look, same configuration',
        floored.rates.naiveAnyReject,
        `worst over ${scope}: ${label(floored.config)}; goal ≤ ${ALPHA}; the same confidence sequence, ` +
          `counting only looks at which both arms had reached the skewness floor (n ≥ 355·s² per arm). ${design}`,
      ),
    );
  }
  for (const { config, figures } of panel.power) {
    const horizon = horizonOf(config);
    const capped = config.cap ? `_capped_p${String(config.cap.quantile).slice(2)}` : '';
    const detail =
      `lognormal σ=${POWER_SIGMA}, challenger values × ${1 - IMPROVEMENT} (true ${IMPROVEMENT * 100}% ` +
      `improvement), ${config.rollouts} rollouts × ${config.looks} looks of ${config.perLook} per arm ` +
      `(horizon ${horizon}), same policy as the A/A panel (minImprovement 0, skewness floor on); ` +
      (config.cap
        ? `both arms capped at the champion's p${config.cap.quantile * 100} (${config.cap.value.toFixed(1)}), which ` +
          `also shrinks the true improvement of the capped means below ${IMPROVEMENT * 100}%; `
        : 'uncapped; ') +
      `gate rolled back ${fmt(figures.failShare)}. ${seconds.toFixed(1)} s for the whole family`;
    rows.push(
      benchResult(
        `aa_panel_power_lognormal2${capped}_${config.perLook}_per_look`,
        figures.passShare,
        'fraction of rollouts',
        'fixed-horizon test, one look at the end (normal interval of the lift), same bar',
        figures.fixedHorizonPass,
        `gate passes within the looks. ${detail}`,
      ),
      benchResult(
        `aa_panel_median_samples_lognormal2${capped}_${config.perLook}_per_look`,
        figures.medianObservations,
        'observations (both arms)',
        'fixed-horizon sample (the whole horizon)',
        horizon,
        `median at the first pass over the ${Math.round(figures.passShare * config.rollouts)} rollouts the ` +
          `gate passed (NaN if none). ${detail}`,
      ),
    );
  }
  return rows;
}

const entry = process.argv[1];
if (entry !== undefined && resolve(entry) === fileURLToPath(import.meta.url)) {
  await runAaPanelBench();
}
