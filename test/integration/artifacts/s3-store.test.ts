import { createHash, randomBytes } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configuredArtifactStore } from '../../../src/artifacts/configured-store.js';
import { createS3ArtifactStore } from '../../../src/artifacts/s3-store.js';
import { ArtifactDigestMismatchError, ArtifactNotFoundError } from '../../../src/artifacts/store.js';
import { loadEnv } from '../../../src/config/env.js';
import { startSeaweedS3, type TestS3 } from '../../support/seaweedfs.js';

/**
 * Issue #21: the S3 artifact store against a real S3-compatible server (SeaweedFS built from Go modules,
 * started by this file on free ports, checking SigV4 signatures), not a mock.
 */
describe('the S3 artifact store on a real S3-compatible server', () => {
  let s3: TestS3;
  let store: ReturnType<typeof createS3ArtifactStore>;
  // The first run on a machine builds SeaweedFS (about 10 minutes); later runs start it in seconds.
  beforeAll(async () => {
    s3 = await startSeaweedS3();
    store = createS3ArtifactStore({
      bucket: s3.bucket,
      prefix: 'models/',
      endpoint: s3.endpoint,
      credentials: s3.credentials,
    });
  }, 20 * 60_000);
  afterAll(async () => {
    store?.client.destroy();
    await s3?.stop();
  });

  it('puts by digest and gets the same bytes back, idempotently, under a location-free URI', async () => {
    const bytes = randomBytes(64 * 1024);
    const digest = createHash('sha256').update(bytes).digest('hex');
    const put = await store.put(bytes);
    expect(put).toEqual({ uri: `arena-artifact://sha256/${digest}`, digest });
    expect(await store.put(bytes)).toEqual(put);
    expect(Buffer.from(await store.get(put.uri, `sha256:${digest}`)).equals(bytes)).toBe(true);
    // Where it lives in the bucket: under the prefix, fanned out by the digest's first two hex digits.
    expect(store.keyOf(digest)).toBe(`models/sha256/${digest.slice(0, 2)}/${digest}`);
    const raw = await store.client.send(
      new GetObjectCommand({ Bucket: s3.bucket, Key: store.keyOf(digest) }),
    );
    expect(raw.Metadata).toMatchObject({ 'arena-sha256': digest });
    // Read to the end: an unread body left on a kept-alive socket errors when the server stops.
    expect((await raw.Body!.transformToByteArray()).length).toBe(bytes.length);
    // Text artifacts (a JSON model) as the local store takes them.
    const json = await store.put('{"weights":[1,2,3]}');
    expect(Buffer.from(await store.get(json.uri, json.digest)).toString()).toBe('{"weights":[1,2,3]}');
  });

  it('round-trips an artifact larger than the server’s chunk size (9 MB)', async () => {
    const big = randomBytes(9 * 1024 * 1024);
    const put = await store.put(big);
    expect(Buffer.from(await store.get(put.uri, put.digest)).equals(big)).toBe(true);
  });

  it('refuses an object changed in the bucket after it was stored (tamper detection)', async () => {
    const put = await store.put('the registered model');
    await store.client.send(
      new PutObjectCommand({ Bucket: s3.bucket, Key: store.keyOf(put.digest), Body: 'a swapped model' }),
    );
    const err = await store.get(put.uri, put.digest).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArtifactDigestMismatchError);
    const swapped = createHash('sha256').update('a swapped model').digest('hex');
    expect((err as Error).message).toBe(
      `Artifact ${put.uri} does not match its registered digest: expected sha256 ${put.digest}, found ${swapped}`,
    );
    // And a registry digest that is not the object's is refused the same way.
    const other = await store.put('another model');
    await expect(store.get(other.uri, put.digest)).rejects.toBeInstanceOf(ArtifactDigestMismatchError);
  });

  it('says "not in the store" for a missing object or a URI that is not an artifact', async () => {
    const missing = `arena-artifact://sha256/${'0'.repeat(64)}`;
    await expect(store.get(missing, '0'.repeat(64))).rejects.toBeInstanceOf(ArtifactNotFoundError);
    await expect(store.get('s3://elsewhere/x', 'ab')).rejects.toBeInstanceOf(ArtifactNotFoundError);
  });

  it('is refused with wrong credentials: the server checks signatures', async () => {
    const wrong = createS3ArtifactStore({
      bucket: s3.bucket,
      endpoint: s3.endpoint,
      credentials: { accessKeyId: s3.credentials.accessKeyId, secretAccessKey: 'not-the-secret' },
    });
    await expect(wrong.put('x')).rejects.toThrow(/signature/i);
    wrong.client.destroy();
  });

  it('is what ARENA_ARTIFACT_STORE=s3://… configures, credentials from the AWS SDK’s environment', async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = s3.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = s3.credentials.secretAccessKey;
    try {
      const configured = configuredArtifactStore(
        loadEnv({ ARENA_ARTIFACT_STORE: `s3://${s3.bucket}/models`, ARENA_S3_ENDPOINT: s3.endpoint }),
      );
      const put = await configured.put('configured by the environment');
      // The same object the explicit store (same bucket and prefix) reads.
      expect(Buffer.from(await store.get(put.uri, put.digest)).toString()).toBe(
        'configured by the environment',
      );
    } finally {
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      else process.env.AWS_ACCESS_KEY_ID = saved.id;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    }
    expect(() => loadEnv({ ARENA_ARTIFACT_STORE: 'gs://bucket' })).toThrow(
      /ARENA_ARTIFACT_STORE="gs:\/\/bucket": must be s3:\/\/BUCKET or s3:\/\/BUCKET\/PREFIX/,
    );
  });
});
