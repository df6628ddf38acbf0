import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

/**
 * What the embedded stack started, kept in .arena/stack.json so that `arena dev down` (another process)
 * can stop exactly that, and a second `arena dev up` can reuse it.
 */
const stateSchema = z.object({
  temporal: z
    .object({
      pid: z.number().int(),
      address: z.string(),
      ui: z.string(),
      cli: z.string(),
      source: z.string(),
    })
    .optional(),
  postgres: z
    .object({
      port: z.number().int(),
      /** The real data directory: .arena/pg, or outside the project when root in a private clone. */
      dataDir: z.string(),
      url: z.string(),
    })
    .optional(),
});

export type StackState = z.infer<typeof stateSchema>;

export function stateFile(arenaHome: string): string {
  return path.join(arenaHome, 'stack.json');
}

export async function readState(arenaHome: string): Promise<StackState> {
  try {
    const parsed = stateSchema.safeParse(JSON.parse(await readFile(stateFile(arenaHome), 'utf8')));
    // A corrupt or outdated state file only means we know of nothing running; probing decides the rest.
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

export async function writeState(arenaHome: string, state: StackState): Promise<void> {
  await mkdir(arenaHome, { recursive: true });
  const tmp = `${stateFile(arenaHome)}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`);
  await rename(tmp, stateFile(arenaHome));
}
