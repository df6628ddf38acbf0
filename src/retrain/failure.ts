/**
 * Why a retraining step cannot succeed however often it is retried: a job's own bad configuration, a
 * failed run, a refused artifact. `type` is what the retrain workflow matches on, so the activities
 * report it unchanged as a non-retryable ApplicationFailure (activities/retrain.ts).
 */
export type RetrainFailureType =
  | 'ConfigurationError'
  | 'UnknownModelError'
  | 'UnknownJobError'
  | 'InvalidInputError'
  | 'NoChampion'
  | 'TrainingFailed'
  | 'ValidationFailed'
  | 'ArtifactRefused';

export class RetrainFailure extends Error {
  override name = 'RetrainFailure';
  constructor(
    readonly type: RetrainFailureType,
    message: string,
    /** Shown with the failure (e.g. the tail of a failed job's stderr). */
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export function retrainFailure(type: RetrainFailureType, message: string, details?: unknown): never {
  throw new RetrainFailure(type, message, details);
}
