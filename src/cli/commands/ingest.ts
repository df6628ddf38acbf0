import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { ingestTimeWindow, loadEnv } from '../../config/env.js';
import { createRecorder } from '../../ingest/recorder.js';
import type { Rejection } from '../../ingest/records.js';
import { createLogger } from '../../log.js';
import { resolveEndpoints } from '../../stack/endpoints.js';
import { UserFacingError } from '../../errors.js';
import { emit } from '../output.js';
import { createProgressBar } from '../progress-bar.js';

const CHUNK = 2_000;
const SHOWN_REJECTIONS = 20;
/** Chunks being written at once. */
const IN_FLIGHT = 3;

interface LineRejection extends Rejection {
  line: number;
}

export function registerIngest(program: Command): void {
  program
    .command('ingest <file>')
    .description(
      'bulk-load predictions and feedback from NDJSON (one record per line; a line with "actual" is feedback)',
    )
    .option('--kind <kind>', 'treat every line as "predictions" or "feedback" instead of detecting it')
    .option('--tenant <tenant>', 'tenant of the records', 'default')
    .option('--json', 'machine-readable summary')
    .action(async (file: string, opts: { kind?: string; tenant: string; json?: boolean }) => {
      if (opts.kind !== undefined && opts.kind !== 'predictions' && opts.kind !== 'feedback') {
        throw new UserFacingError(
          `--kind=${JSON.stringify(opts.kind)}: must be predictions or feedback`,
          'Omit --kind to detect it per line.',
        );
      }
      const size = await stat(file).then(
        (s) => s.size,
        () => {
          throw new UserFacingError(`Cannot read ${file}`, 'Check the path.');
        },
      );
      const env = loadEnv();
      const { database } = await resolveEndpoints(env);
      const recorder = createRecorder({
        databaseUrl: database.url,
        tenantId: opts.tenant,
        bucketSeconds: env.ARENA_ROLLUP_BUCKET_SECONDS,
        retryForMs: env.ARENA_INGEST_RETRY_SECONDS * 1000,
        timeWindow: ingestTimeWindow(env),
        log: createLogger(env.LOG_LEVEL),
      });
      const bar = createProgressBar('ingest', size);
      const started = Date.now();
      const rejections: LineRejection[] = [];
      let lines = 0;
      const stored = { predictions: 0, feedback: 0 };
      const duplicates = { predictions: 0, feedback: 0 };
      let bytes = 0;
      let predictions: Array<{ line: number; record: unknown }> = [];
      let feedback: Array<{ line: number; record: unknown }> = [];
      // Chunks are sent durably (each resolves once its lines are stored, with the lines the database refused
      // among the rejections), a few at a time so reading the file overlaps with writing it.
      const inFlight = new Set<Promise<void>>();
      let failure: Error | undefined;

      const send = (
        kind: 'predictions' | 'feedback',
        chunk: Array<{ line: number; record: unknown }>,
      ): void => {
        if (chunk.length === 0) return;
        const records = chunk.map((c) => c.record);
        const sent = (
          kind === 'predictions'
            ? recorder.recordPredictions(records, { durable: true })
            : recorder.recordFeedbackBatch(records, { durable: true })
        ).then(
          (outcome) => {
            stored[kind] += outcome.accepted - outcome.duplicates;
            duplicates[kind] += outcome.duplicates;
            for (const r of outcome.rejected) rejections.push({ ...r, line: chunk[r.index]!.line });
          },
          (err: Error) => {
            failure ??= err;
          },
        );
        inFlight.add(sent);
        void sent.finally(() => inFlight.delete(sent));
      };
      const progressDetail = (): string =>
        `${lines} lines | ${Math.round(lines / ((Date.now() - started) / 1000 || 1))} lines/s | ${rejections.length} refused`;
      const drain = async (limit: number): Promise<void> => {
        while (inFlight.size > limit) await Promise.race(inFlight);
      };

      const input = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
      for await (const text of input) {
        lines += 1;
        bytes += Buffer.byteLength(text) + 1;
        if (text.trim() === '') continue;
        let record: unknown;
        try {
          record = JSON.parse(text);
        } catch (err) {
          rejections.push({
            index: -1,
            line: lines,
            field: '(line)',
            reason: `not valid JSON: ${(err as Error).message}`,
          });
          continue;
        }
        const kind =
          opts.kind ??
          (record !== null && typeof record === 'object' && 'actual' in record ? 'feedback' : 'predictions');
        (kind === 'feedback' ? feedback : predictions).push({ line: lines, record });
        if (predictions.length >= CHUNK) {
          send('predictions', predictions);
          predictions = [];
        }
        if (feedback.length >= CHUNK) {
          // Predictions read so far go first, so feedback finds them.
          send('predictions', predictions);
          predictions = [];
          await drain(0);
          send('feedback', feedback);
          feedback = [];
        }
        await drain(IN_FLIGHT);
        if (failure) break;
        if (lines % 1000 === 0) bar.update(Math.min(bytes, size), progressDetail());
      }
      if (!failure) {
        send('predictions', predictions);
        await drain(0);
        send('feedback', feedback);
      }
      await drain(0);
      await recorder.close().catch((err: Error) => {
        failure ??= err;
      });
      bar.update(failure ? Math.min(bytes, size) : size, progressDetail());
      bar.stop();
      rejections.sort((a, b) => a.line - b.line);
      if (failure) {
        throw new UserFacingError(
          `Ingestion stopped at line ${lines}: ${failure.message}. Stored so far: ${stored.predictions} predictions and ${stored.feedback} feedback; ${rejections.length} lines refused.`,
          'Nothing is lost by running the same command again once the database is reachable: lines already stored are recognised and skipped.',
          { cause: failure },
        );
      }

      const seconds = (Date.now() - started) / 1000;
      const summary = {
        file,
        lines,
        stored,
        duplicates,
        rejected: rejections.length,
        seconds,
        rejections: rejections.slice(0, 1000),
      };
      emit(opts.json, summary, () =>
        [
          `${stored.predictions} predictions and ${stored.feedback} feedback stored from ${lines} lines in ${seconds.toFixed(1)} s` +
            (duplicates.predictions + duplicates.feedback > 0
              ? ` (${duplicates.predictions + duplicates.feedback} lines were already stored)`
              : '') +
            (rejections.length > 0 ? `; ${rejections.length} lines refused:` : ''),
          ...rejections.slice(0, SHOWN_REJECTIONS).map((r) => `  line ${r.line}: ${r.field}: ${r.reason}`),
          rejections.length > SHOWN_REJECTIONS
            ? `  … and ${rejections.length - SHOWN_REJECTIONS} more rejected lines (use --json for all)`
            : '',
        ]
          .filter(Boolean)
          .join('\n'),
      );
      // Valid lines are stored either way; a non-zero exit tells scripts that some were not.
      if (rejections.length > 0) process.exitCode = 2;
    });
}
