import { artifactStoreSetting, type ArenaEnv } from '../config/env.js';
import { createLocalArtifactStore } from './local-store.js';
import { createS3ArtifactStore } from './s3-store.js';
import type { ArtifactStore } from './store.js';

/** The store ARENA_ARTIFACT_STORE names: the local directory by default, or an S3 bucket. */
export function configuredArtifactStore(env: ArenaEnv): ArtifactStore {
  const s = artifactStoreSetting(env);
  if (s.kind === 'local') return createLocalArtifactStore(s.dir);
  return createS3ArtifactStore({
    bucket: s.bucket,
    prefix: s.prefix,
    region: s.region,
    ...(s.endpoint ? { endpoint: s.endpoint } : {}),
  });
}
