import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { createLocalArtifactStore } from '../src/artifacts/local-store.js';

/**
 * What the example models' train commands share: the standardised linear model their artifacts hold, the
 * JSON lines Arena's retraining `process` backend reads on stdout, and how the result is written.
 */

/** Standardised inputs: x' = (x − mean) / scale; the model's score is intercept + Σ coefficient · x'. */
export const linearModelFields = {
  features: z.array(z.string()),
  means: z.array(z.number()),
  scales: z.array(z.number()),
  intercept: z.number(),
  coefficients: z.array(z.number()),
  ridge: z.number().nonnegative(),
};

/** One JSON line on stdout: progress, or the final `done`. */
export const emit = (event: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(event)}\n`);
};

/**
 * Writes the artifact to `out` (and into the content-addressed store, when given), then emits `write` and
 * `done` with its digest, the training data's digest and the holdout figures.
 */
export async function writeTrainedArtifact(
  o: { out: string; store?: string | undefined },
  artifact: { trainingDataSha256: string },
  holdout: unknown,
): Promise<void> {
  const text = `${JSON.stringify(artifact, null, 2)}\n`;
  await mkdir(dirname(o.out), { recursive: true });
  await writeFile(o.out, text);
  const stored = o.store ? await createLocalArtifactStore(o.store).put(text) : null;
  emit({ event: 'progress', step: 'write', out: o.out });
  emit({
    event: 'done',
    artifact: o.out,
    digest: stored?.digest ?? createHash('sha256').update(text).digest('hex'),
    ...(stored ? { uri: stored.uri } : {}),
    trainingDataSha256: artifact.trainingDataSha256,
    holdout,
  });
}

/** Runs a train command, exiting 1 with the reason on stderr (commander prints its own usage errors). */
export function runTrainCommand(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    if (!(err instanceof Error && 'code' in err && String(err.code).startsWith('commander.')))
      process.stderr.write(`train: ${message}\n`);
    process.exit(1);
  });
}
