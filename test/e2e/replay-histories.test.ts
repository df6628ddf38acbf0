import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { describe, expect, it, inject } from 'vitest';
import { installWorkerRuntime } from '../../src/worker/runtime.js';

/**
 * Histories recorded from real runs are committed under test/fixtures/histories and replayed on every run,
 * so a change to workflow code that breaks determinism fails CI. Use `patched()` for intentional changes.
 */
describe('committed workflow histories replay against the current workflow code', async () => {
  installWorkerRuntime();
  const dir = fileURLToPath(new URL('../fixtures/histories/', import.meta.url));
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();

  it('has recorded histories to replay', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  for (const file of files) {
    it(`replays ${file}`, async () => {
      const history = historyFromJSON(JSON.parse(await readFile(`${dir}${file}`, 'utf8')));
      await Worker.runReplayHistory(
        { workflowBundle: { code: inject('workflowBundleCode') }, replayName: file },
        history,
      );
    });
  }
});
