import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import {
  ArtifactNotFoundError,
  artifactUri,
  digestOfUri,
  digestPath,
  sha256Hex,
  verifiedBytes,
  type ArtifactStore,
} from './store.js';

/**
 * Artifacts under `<dir>/sha256/<first two hex digits>/<digest>`, named `arena-artifact://sha256/<digest>`
 * so the URI says nothing about where a given deployment keeps its store.
 */
export function createLocalArtifactStore(dir: string): ArtifactStore {
  const root = resolve(dir);
  const pathOf = (digest: string): string => join(root, digestPath(digest));
  return {
    async put(input) {
      const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
      const digest = sha256Hex(bytes);
      const path = pathOf(digest);
      await mkdir(dirname(path), { recursive: true });
      // Write then rename: a reader never sees half a file, and two writers of the same bytes agree.
      const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
      await writeFile(tmp, bytes);
      await rename(tmp, path);
      return { uri: artifactUri(digest), digest };
    },
    async get(uri, expectedDigest) {
      const digest = digestOfUri(uri);
      let bytes: Buffer;
      try {
        bytes = await readFile(pathOf(digest));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ArtifactNotFoundError(uri);
        throw err;
      }
      return verifiedBytes(uri, expectedDigest, bytes);
    },
  };
}
