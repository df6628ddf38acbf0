import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ArtifactDigestMismatchError, ArtifactNotFoundError, type ArtifactStore } from './store.js';

const PREFIX = 'arena-artifact://sha256/';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/**
 * Artifacts under `<dir>/sha256/<first two hex digits>/<digest>`, named `arena-artifact://sha256/<digest>`
 * so the URI says nothing about where a given deployment keeps its store.
 */
export function createLocalArtifactStore(dir: string): ArtifactStore {
  const root = resolve(dir);
  const pathOf = (digest: string): string => join(root, 'sha256', digest.slice(0, 2), digest);
  return {
    async put(input) {
      const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
      const digest = sha256(bytes);
      const path = pathOf(digest);
      await mkdir(dirname(path), { recursive: true });
      // Write then rename: a reader never sees half a file, and two writers of the same bytes agree.
      const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
      await writeFile(tmp, bytes);
      await rename(tmp, path);
      return { uri: `${PREFIX}${digest}`, digest };
    },
    async get(uri, expectedDigest) {
      if (!uri.startsWith(PREFIX) || !/^[0-9a-f]{64}$/.test(uri.slice(PREFIX.length)))
        throw new ArtifactNotFoundError(uri);
      const expected = expectedDigest.replace(/^sha256:/, '');
      let bytes: Buffer;
      try {
        bytes = await readFile(pathOf(uri.slice(PREFIX.length)));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ArtifactNotFoundError(uri);
        throw err;
      }
      const actual = sha256(bytes);
      if (actual !== expected) throw new ArtifactDigestMismatchError(uri, expected, actual);
      return bytes;
    },
  };
}
