import type { Command } from 'commander';
import { loadEnv } from '../../config/env.js';
import { createLogger } from '../../log.js';
import { createProgress } from '../../stack/progress.js';
import { UserFacingError } from '../../errors.js';
import { emit } from '../output.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'run Arena end to end on the embedded stack: a rollout that is promoted and one that is rolled back',
    )
    .option(
      '--example <name>',
      'weather (a forecaster) or flights (a classifier, per-segment check)',
      'weather',
    )
    .option('--scenario <name>', 'weather: promote, rollback or all', 'all')
    .option('--fast', 'shorter stages, or a higher replay rate for flights')
    .option('--json', 'machine-readable summary')
    .action(async (opts: { example: string; scenario: string; fast?: boolean; json?: boolean }) => {
      if (!['weather', 'flights'].includes(opts.example)) {
        throw new UserFacingError(
          `--example=${JSON.stringify(opts.example)}: must be weather or flights`,
          'arena demo --example flights',
        );
      }
      if (opts.example === 'flights') return runFlights(opts);
      if (!['promote', 'rollback', 'all'].includes(opts.scenario)) {
        throw new UserFacingError(
          `--scenario=${JSON.stringify(opts.scenario)}: must be promote, rollback or all`,
          'arena demo --scenario all',
        );
      }
      const env = loadEnv();
      const log = createLogger(env.LOG_LEVEL === 'info' ? 'warn' : env.LOG_LEVEL);
      const { runDemo } = await import('../../demo/run-demo.js');
      const started = Date.now();
      const results = await runDemo({
        env,
        log,
        progress: createProgress(),
        scenarios:
          opts.scenario === 'all' ? ['promote', 'rollback'] : [opts.scenario as 'promote' | 'rollback'],
        fast: Boolean(opts.fast),
        stream: opts.json ? undefined : process.stdout,
        out: (text) => {
          if (!opts.json) process.stdout.write(`${text}\n`);
        },
      });
      const expected: Record<string, string> = { promote: 'promoted', rollback: 'rolled_back' };
      const ok = results.every((r) => r.state === expected[r.scenario]);
      emit(opts.json, { ok, seconds: Math.round((Date.now() - started) / 1000), results }, () =>
        [
          '\n=== Summary',
          ...results.map((r) =>
            [
              `  ${r.scenario.padEnd(9)} ${r.state.padEnd(12)} ${r.rolloutId} (${r.seconds}s)`,
              `            ${r.decision ?? ''}`,
              `            MAE over the replayed year: champion ${r.mae.champion.toFixed(2)} °C, challenger ${r.mae.challenger.toFixed(2)} °C` +
                (r.measured
                  ? `; as the rollout measured them at its decision: ${r.measured.champion.toFixed(2)} vs ${r.measured.challenger.toFixed(2)}`
                  : ''),
              `            Web UI: ${r.webUi ?? '(external Temporal; open your UI)'}`,
              `            report: ${r.report ?? '(not written)'}`,
            ].join('\n'),
          ),
          `  total ${Math.round((Date.now() - started) / 1000)}s. The stack keeps running (npm run arena -- dev down stops it).`,
        ].join('\n'),
      );
      if (!ok) process.exitCode = 1;
    });
}

async function runFlights(opts: { fast?: boolean; json?: boolean }): Promise<void> {
  const env = loadEnv();
  const log = createLogger(env.LOG_LEVEL === 'info' ? 'warn' : env.LOG_LEVEL);
  const { runFlightsDemo } = await import('../../demo/flights-demo.js');
  const started = Date.now();
  const r = await runFlightsDemo({
    env,
    log,
    progress: createProgress(),
    fast: Boolean(opts.fast),
    stream: opts.json ? undefined : process.stdout,
    out: (text) => {
      if (!opts.json) process.stdout.write(`${text}\n`);
    },
  });
  // The story: promoted where better, and the airports where it is worse found and left on the champion.
  const ok = r !== undefined && r.state === 'promoted' && r.worse.length > 0 && r.flights >= 1_000_000;
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
  emit(opts.json, { ok, seconds: Math.round((Date.now() - started) / 1000), result: r ?? null }, () =>
    [
      '\n=== Summary',
      r
        ? [
            `  flights   ${r.state.padEnd(12)} ${r.rolloutId} (${r.seconds}s)`,
            `            ${r.decision ?? ''}`,
            `            ${r.flights.toLocaleString('en-US')} flights replayed; accuracy over May–June 2001: champion ${pct(r.accuracy.champion)}, challenger ${pct(r.accuracy.challenger)}`,
            `            significantly worse under the challenger: ${r.worse.join(', ') || 'no airport'}; left on the champion: ${r.excluded.join(', ') || 'none'}`,
            `            Web UI: ${r.webUi ?? '(external Temporal; open your UI)'}`,
            `            report: ${r.report ?? '(not written)'}`,
          ].join('\n')
        : '  interrupted',
      `  total ${Math.round((Date.now() - started) / 1000)}s. The stack keeps running (npm run arena -- dev down stops it).`,
    ].join('\n'),
  );
  if (!ok) process.exitCode = 1;
}
