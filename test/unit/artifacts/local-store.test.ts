import { createHash } from 'node:crypto';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLocalArtifactStore } from '../../../src/artifacts/local-store.js';
import { ArtifactDigestMismatchError, ArtifactNotFoundError } from '../../../src/artifacts/store.js';

describe('local content-addressed artifact store', () => {
  it('stores by SHA-256, idempotently, and returns the same bytes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'arena-store-'));
    const store = createLocalArtifactStore(dir);
    const digest = createHash('sha256').update('model bytes').digest('hex');
    const a = await store.put('model bytes');
    expect(a).toEqual({ uri: `arena-artifact://sha256/${digest}`, digest });
    expect(await store.put(Buffer.from('model bytes'))).toEqual(a);
    expect(await readdir(join(dir, 'sha256', digest.slice(0, 2)))).toEqual([digest]); // no temp files left
    expect(Buffer.from(await store.get(a.uri, `sha256:${digest}`)).toString()).toBe('model bytes');
  });

  it('refuses an artifact whose bytes no longer match the registered digest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'arena-store-'));
    const store = createLocalArtifactStore(dir);
    const { uri, digest } = await store.put('{"coefficients":[1,2]}');
    await writeFile(join(dir, 'sha256', digest.slice(0, 2), digest), '{"coefficients":[1,3]}');
    const err = await store.get(uri, digest).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArtifactDigestMismatchError);
    expect((err as Error).message).toContain(`expected sha256 ${digest}`);
    await expect(
      store.get('arena-artifact://sha256/' + '0'.repeat(64), '0'.repeat(64)),
    ).rejects.toBeInstanceOf(ArtifactNotFoundError);
    await expect(store.get('s3://bucket/x', digest)).rejects.toBeInstanceOf(ArtifactNotFoundError);
  });
});
