import { createHash } from 'node:crypto';
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

const URI_PREFIX = 'arena-artifact://sha256/';

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** An artifact's URI: its digest only, so it says nothing about where a deployment keeps its store. */
export const artifactUri = (digest: string): string => `${URI_PREFIX}${digest}`;

/** Where a store keeps a digest below its root: `sha256/<first two hex digits>/<digest>`. */
export const digestPath = (digest: string): string => `sha256/${digest.slice(0, 2)}/${digest}`;

/** The digest an artifact URI names; anything else is not in any store. */
export function digestOfUri(uri: string): string {
  const digest = uri.slice(URI_PREFIX.length);
  if (!uri.startsWith(URI_PREFIX) || !/^[0-9a-f]{64}$/.test(digest)) throw new ArtifactNotFoundError(uri);
  return digest;
}

/** The bytes read for `uri`, refused unless they hash to `expectedDigest` (with or without `sha256:`). */
export function verifiedBytes<T extends Uint8Array>(uri: string, expectedDigest: string, bytes: T): T {
  const expected = expectedDigest.replace(/^sha256:/, '');
  const actual = sha256Hex(bytes);
  if (actual !== expected) throw new ArtifactDigestMismatchError(uri, expected, actual);
  return bytes;
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
