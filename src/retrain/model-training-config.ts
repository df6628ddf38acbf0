import type { Knex } from 'knex';
import { modelMetadata } from '../registry/model-store.js';
import { retrainFailure } from './failure.js';
import { fillCommand, parseTrainingConfig, type TrainingConfig } from './training-config.js';

export type StoredTrainingConfig =
  | { status: 'unknown_model' }
  | { status: 'unconfigured' }
  /** As written by `arena retrain configure`: defaults apply when it is parsed. */
  | { status: 'configured'; raw: unknown };

/** The training configuration kept in `models.metadata.training`. */
export async function storedTrainingConfig(
  knex: Knex,
  tenantId: string,
  model: string,
): Promise<StoredTrainingConfig> {
  const metadata = await modelMetadata(knex, tenantId, model);
  if (!metadata) return { status: 'unknown_model' };
  if (!metadata.training) return { status: 'unconfigured' };
  return { status: 'configured', raw: metadata.training };
}

/** The parsed configuration a retraining step runs with; a missing or invalid one is a RetrainFailure. */
export async function loadTrainingConfig(
  knex: Knex,
  tenantId: string,
  model: string,
): Promise<TrainingConfig> {
  const stored = await storedTrainingConfig(knex, tenantId, model);
  if (stored.status === 'unknown_model') retrainFailure('UnknownModelError', `unknown model ${model}`);
  if (stored.status === 'unconfigured')
    retrainFailure(
      'ConfigurationError',
      `model ${model} has no training configuration; set one with: arena retrain configure ${model} --config FILE`,
    );
  try {
    return parseTrainingConfig(stored.raw, `models.metadata.training of ${model}`);
  } catch (err) {
    retrainFailure('ConfigurationError', (err as Error).message);
  }
}

/** A configured command with its placeholders filled; an unknown placeholder is a configuration error. */
export function configuredCommand(command: string[], values: Record<string, string>): string[] {
  try {
    return fillCommand(command, values);
  } catch (err) {
    retrainFailure('ConfigurationError', (err as Error).message);
  }
}
