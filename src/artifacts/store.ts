import { join } from 'node:path';
import { UserFacingError } from '../errors.js';

/**
 * Where model artifacts live, addressed by their SHA-256: the registry records the URI and the digest, and
 * whoever loads an artifact gets it only if its bytes still hash to that digest. Two implementations: a
 * local directory (local-store.ts, the default) and an S3 bucket (s3-store.ts, ARENA_ARTIFACT_STORE=s3://…).
 */
export interface ArtifactStore {
  /** Stores the bytes (idempotent: the same bytes give the same URI). */
  put(bytes: Uint8Array | string): Promise<{ uri: string; digest: string }>;
  /** The bytes behind `uri`, refused unless they hash to `expectedDigest`. */
  get(uri: string, expectedDigest: string): Promise<Uint8Array>;
}

export class ArtifactDigestMismatchError extends UserFacingError {
  constructor(
    readonly uri: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      `Artifact ${uri} does not match its registered digest: expected sha256 ${expected}, found ${actual}`,
      'The artifact was changed after registration; restore it from its source or register a new version.',
      { code: 'artifact' },
    );
  }
}

export class ArtifactNotFoundError extends UserFacingError {
  constructor(readonly uri: string) {
    super(`Artifact ${uri} is not in the store`, 'Check ARENA_HOME (or the store directory) and the URI.', {
      code: 'artifact',
    });
  }
}

/** `<ARENA_HOME>/artifacts` (ARENA_HOME defaults to ./.arena). */
export function defaultArtifactDir(env: { arenaHome: string }): string {
  return join(env.arenaHome, 'artifacts');
}
