import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';

/**
 * Reads an example model's artifact and validates it with its schema; with a digest, refuses bytes that do
 * not hash to it (what a server must do before serving a version Arena registered with that digest).
 */
export async function readArtifactFile<S extends z.ZodType>(
  path: string,
  schema: S,
  expectedDigest?: string,
): Promise<z.output<S>> {
  const bytes = await readFile(path);
  if (expectedDigest) {
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== expectedDigest.replace(/^sha256:/, ''))
      throw new Error(
        `artifact ${path}: sha256 ${actual} does not match the expected ${expectedDigest}; refusing to serve it`,
      );
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new Error(`artifact ${path}: not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`artifact ${path}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}
