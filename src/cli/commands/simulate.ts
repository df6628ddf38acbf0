import type { Command } from 'commander';
import { loadEnv } from '../../config/env.js';
import { InvalidInputError } from '../../errors.js';
import { parseProfile } from '../../simulate/profile.js';
import { startTraffic } from '../../simulate/traffic.js';
import { resolveEndpoints } from '../../stack/endpoints.js';
import { emit } from '../output.js';
import { decimalOption, durationOption } from '../parse.js';

const DAY_MS = 86_400_000;

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description(
      'send synthetic traffic through the router and record predictions and feedback as a model server would',
    )
    .requiredOption('--model <model>', 'model to route')
    .option('--rps <n>', 'requests per second', '200')
    .option('--duration <d>', 'how long (e.g. 30s, 5m)', '30s')
    .option(
      '--profile <spec>',
      'VERSION:mae=12.5,error=0.001,latency=40 (repeatable; one per version that may serve)',
      collect,
    )
    .option('--feedback-delay <d>', 'ground truth this long after each prediction', '0s')
    .option('--json', 'machine-readable summary')
    .action(
      async (opts: {
        model: string;
        rps: string;
        duration: string;
        profile?: string[];
        feedbackDelay: string;
        json?: boolean;
      }) => {
        const rps = decimalOption('--rps', opts.rps, { min: 0, minExclusive: true, max: 100_000 });
        // Node timers cap at 2^31-1 ms (24.8 days); a week is more than any simulation needs.
        const durationMs = durationOption('--duration', opts.duration, { minMs: 1, maxMs: 7 * DAY_MS });
        const feedbackDelayMs = durationOption('--feedback-delay', opts.feedbackDelay, { maxMs: DAY_MS });
        if (!opts.profile?.length)
          throw new InvalidInputError(
            '--profile',
            '',
            'give at least one, e.g. --profile 1.0.0:mae=12 --profile 1.1.0:mae=10',
          );
        const profiles = Object.fromEntries(opts.profile.map(parseProfile));
        const env = loadEnv();
        const { database } = await resolveEndpoints(env);
        const traffic = await startTraffic({
          databaseUrl: database.url,
          model: opts.model,
          profiles,
          ratePerSecond: rps,
          bucketSeconds: env.ARENA_ROLLUP_BUCKET_SECONDS,
          feedbackDelayMs,
        });
        const stop = new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, durationMs);
          process.once('SIGINT', () => {
            clearTimeout(timer);
            resolve();
          });
        });
        const progress = setInterval(
          () => process.stderr.write(`simulate ${opts.model}: ${traffic.sent()} requests\n`),
          5_000,
        );
        await stop;
        clearInterval(progress);
        await traffic.stop();
        const stats = traffic.recorder.stats();
        emit(
          opts.json,
          {
            model: opts.model,
            requests: traffic.sent(),
            predictions: stats.written,
            feedback: stats.feedbackWritten,
            rejected: stats.rejected,
          },
          () =>
            `Sent ${traffic.sent()} requests to ${opts.model}: ${stats.written} predictions and ${stats.feedbackWritten} feedback stored.`,
        );
      },
    );
}
