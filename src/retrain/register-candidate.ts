import type { Knex } from 'knex';
import { registerVersion } from '../registry/registry.js';
import { getRouting } from '../routing/store.js';
import type { TrainedCandidate } from './training-run.js';
import type { RetrainInput } from './types.js';
import type { ValidationOutcome } from './validation.js';

/** Registers a validated candidate with its lineage: the job, its data, its validation, its parent. */
export async function registerCandidate(
  knex: Knex,
  args: { input: RetrainInput; candidate: TrainedCandidate; validation: ValidationOutcome },
): Promise<string> {
  const { input, candidate, validation } = args;
  const routing = await getRouting(knex, input.model, input.tenantId);
  await registerVersion(knex, {
    tenantId: input.tenantId,
    model: input.model,
    version: candidate.version,
    actor: 'arena',
    artifactUri: candidate.uri,
    artifactDigest: candidate.digest,
    ...(routing.champion ? { parentVersion: routing.champion } : {}),
    training: {
      jobId: input.jobId,
      trigger: input.trigger,
      reason: input.reason,
      requestedBy: input.requestedBy,
      ...(candidate.window ? { window: candidate.window } : {}),
      dataSha256: trainingDataDigest(candidate.progress),
      validationHash: validation.validationHash,
      holdout: validation.candidate,
      progress: candidate.progress.filter((e) => e.event === 'done'),
    },
    metrics: {
      holdout: validation.candidate,
      championOnHoldout: validation.champion,
      improvement: validation.improvement,
      validationHash: validation.validationHash,
    },
  });
  return candidate.version;
}

/** The digest of the rows it was trained on, as the training job reported it (its last report wins). */
export function trainingDataDigest(progress: TrainedCandidate['progress']): string | null {
  const reported = progress
    .map((e) => e.trainingDataSha256 ?? e.dataSha256)
    .filter((d): d is string => typeof d === 'string');
  return reported.at(-1) ?? null;
}
