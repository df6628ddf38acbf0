import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import type { ArtifactStore } from '../artifacts/store.js';
import { getVersion } from '../registry/registry.js';
import { getRouting } from '../routing/store.js';
import { runProcessJob } from '../training/process-job.js';
import { retrainFailure } from './failure.js';
import { configuredCommand } from './model-training-config.js';
import { validationRules, type TrainingConfig } from './training-config.js';
import type { TrainedCandidate } from './training-run.js';
import type { RetrainInput } from './types.js';
import { judgeCandidate, validationReportOf, type ValidationOutcome } from './validation.js';

/**
 * Runs the configured validation command on the candidate and the current champion (both fetched from
 * the content-addressed store and verified against their digests) and judges its report.
 */
export async function validateCandidate(args: {
  knex: Knex;
  input: RetrainInput;
  config: TrainingConfig;
  candidate: TrainedCandidate;
  artifacts: () => ArtifactStore;
}): Promise<ValidationOutcome> {
  const { knex, input, config, candidate } = args;
  const routing = await getRouting(knex, input.model, input.tenantId);
  if (!routing.champion)
    retrainFailure('NoChampion', `model ${input.model} has no champion to validate against`);
  const champion = await getVersion(knex, input.model, routing.champion, input.tenantId);
  if (!champion.artifactUri || !champion.artifactDigest)
    retrainFailure(
      'ConfigurationError',
      `champion ${champion.version} has no registered artifact to compare with`,
    );
  const dir = await mkdtemp(join(tmpdir(), `arena-validate-${input.jobId}-`));
  try {
    const files = { candidate: join(dir, 'candidate'), champion: join(dir, 'champion') };
    const fetchVerified = (uri: string, digest: string): Promise<Uint8Array> =>
      args
        .artifacts()
        .get(uri, digest)
        .catch((err: Error) => retrainFailure('ArtifactRefused', err.message));
    await writeFile(files.candidate, await fetchVerified(candidate.uri, candidate.digest));
    await writeFile(files.champion, await fetchVerified(champion.artifactUri, champion.artifactDigest));
    const command = configuredCommand(config.validate.command, { ...files, ...(candidate.window ?? {}) });
    let out;
    try {
      out = await runProcessJob({ command, cwd: config.validate.cwd, timeoutMs: 10 * 60_000 });
    } catch (err) {
      retrainFailure('ValidationFailed', `validation could not run: ${(err as Error).message}`);
    }
    const report = validationReportOf(out.events);
    if (!report)
      retrainFailure('ValidationFailed', 'the validation command printed no { candidate, champion } result');
    return judgeCandidate(report, validationRules(config.validate), {
      candidate: candidate.digest,
      champion: champion.artifactDigest,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
