import { condition, patched } from '@temporalio/workflow';
import type { Stage } from '../../src/policy/policy.js';
import { basisPoints } from '../../src/routing/weight.js';
import { acts } from './activities.js';
import { pauseForPerson, pauseForSources, sourcesFailing } from './pauses.js';
import { verdictFigures } from './lifecycle-events.js';
import type { Rollout } from './state.js';
import { analyze, nextVerdict } from './verdicts.js';
import { afterAbort, finish, keptUnlessLegacy, rollBack, rollBackOnAbort } from './ending.js';

/**
 * The phases of DESIGN.md §6, in order. Each returns at once unless the rollout is in it, so a run continued
 * as new resumes where the last one stopped, and a rollout that ended (rolled back, rejected, expired) skips
 * the rest.
 */

export async function approval(rollout: Rollout): Promise<void> {
  const { input, memory: m, policy } = rollout;
  if (m.phase !== 'approval') return;
  if (policy.approval.required) {
    if (m.state !== 'awaiting_approval')
      await rollout.record({
        to: 'awaiting_approval',
        actor: input.proposedBy,
        reason: 'proposed; waiting for approval',
      });
    const approved = (): boolean => m.approvals.length >= policy.approval.minApprovals;
    const settledBy = (): boolean => approved() || m.rejected !== null || m.abort !== null;
    const deadline =
      Date.parse(
        m.events.find((e) => e.to === 'awaiting_approval')?.at ?? new Date(Date.now()).toISOString(),
      ) + policy.approval.timeout;
    const warnAt = deadline - policy.approval.warnBefore;
    if (Date.now() < warnAt && !(await condition(settledBy, warnAt - Date.now()))) {
      await rollout.alert({
        type: 'approval_expiring',
        severity: 'warning',
        title: `${input.model} ${input.challenger}: approval expires at ${new Date(deadline).toISOString()}`,
        details: { approvals: m.approvals, required: policy.approval.minApprovals },
        dedupeKey: `${input.rolloutId}:approval_expiring`,
      });
    }
    const settled = await condition(settledBy, Math.max(0, deadline - Date.now()));
    if (m.rejected)
      return finish(rollout, 'rejected', m.rejected.by, m.rejected.reason ?? 'rejected', 'reject');
    if (m.abort) {
      const outcome = afterAbort(m.abort.reject);
      // A withdrawal that keeps the version retryable ends `aborted`; before this rule, `rejected`.
      const state = outcome === 'retryable' ? 'aborted' : 'rejected';
      return finish(rollout, state, m.abort.by, m.abort.reason ?? 'withdrawn', outcome);
    }
    if (!settled) {
      await rollout.alert({
        type: 'approval_expired',
        severity: 'warning',
        title: `${input.model} ${input.challenger}: no approval within ${policy.approval.timeout / 1000}s; rollout expired`,
        details: { approvals: m.approvals },
        dedupeKey: `${input.rolloutId}:expired`,
      });
      return finish(rollout, 'expired', 'arena', 'approval timed out', keptUnlessLegacy());
    }
  }
  m.phase = 'stages';
}

export async function stages(rollout: Rollout): Promise<void> {
  const { input, memory: m, policy } = rollout;
  if (m.phase !== 'stages') return;
  for (; m.stageIndex < policy.stages.length; m.stageIndex++) {
    const stage = policy.stages[m.stageIndex]!;
    if (m.stageStartedAt === null) await startStage(rollout, stage);
    for (;;) {
      const startedAt = m.stageStartedAt!;
      const deadline = startedAt + stage.duration + m.extensionMs;
      const verdict = await nextVerdict(rollout, {
        mode: stage.mode,
        windows: [{ index: m.stageIndex, from: startedAt, to: null }],
        deadline,
        interrupted: () => rollout.interrupted(),
      });
      if (verdict === 'resumed') continue;
      if (verdict === 'interrupted') {
        if (m.abort) return rollBackOnAbort(rollout);
        if (m.promoteNow) break;
        continue;
      }
      if (verdict.decision === 'fail')
        return rollBack(rollout, 'rolled_back', 'arena', verdict.summary || 'the gate failed', 'reject');
      if (verdict.decision === 'invalid') {
        await pauseForPerson(
          rollout,
          {
            type: 'srm_detected',
            severity: 'critical',
            title: `${input.model} ${input.challenger}: sample ratio mismatch; rollout paused, data invalid`,
            details: { analysis: verdict },
            dedupeKey: `${input.rolloutId}:srm:${m.stageIndex}`,
          },
          `sample ratio mismatch: ${verdict.summary}`,
        );
        continue;
      }
      if (sourcesFailing(rollout)) {
        await pauseForSources(rollout, verdict);
        continue;
      }
      if (Date.now() >= deadline) {
        const last = m.stageIndex === policy.stages.length - 1;
        // Earlier stages guard safety (no failure, enough data); the final decision needs a pass.
        const enough = last
          ? verdict.decision === 'pass'
          : verdict.decision === 'pass' || verdict.decision === 'inconclusive';
        if (enough || m.extensionMs >= policy.analysis.maxExtension) break;
        m.extensionMs = Math.min(policy.analysis.maxExtension, m.extensionMs + policy.analysis.interval);
        if (m.extensionMs === policy.analysis.interval)
          await rollout.record({
            type: 'extended',
            actor: 'arena',
            reason: `${verdict.decision} at the end of stage ${m.stageIndex + 1}; waiting up to ${policy.analysis.maxExtension / 1000}s more`,
          });
      }
      await rollout.continueAsNewIfLong();
    }
    m.stageWindows.push({ index: m.stageIndex, from: m.stageStartedAt!, to: Date.now() });
    m.stageStartedAt = null;
    if (m.promoteNow) break;
  }
  m.phase = 'deciding';
}

/** Routes traffic to the challenger as the stage says, and records the stage's start. */
async function startStage(rollout: Rollout, stage: Stage): Promise<void> {
  const { input, memory: m, policy } = rollout;
  await acts.setRouting({
    model: input.model,
    change:
      stage.mode === 'shadow'
        ? { challenger: input.challenger, mode: 'shadow' }
        : { challenger: input.challenger, mode: 'canary', weightBp: basisPoints(stage.weight) },
    actor: 'arena',
    reason: `rollout ${input.rolloutId} stage ${m.stageIndex + 1}`,
    idempotencyKey: `${input.rolloutId}:stage:${m.stageIndex}`,
  });
  await acts.setVersionStatus({
    model: input.model,
    version: input.challenger,
    to: stage.mode === 'shadow' ? 'shadow' : 'challenger',
    actor: 'arena',
    reason: `stage ${m.stageIndex + 1}`,
  });
  m.stageStartedAt = Date.now();
  m.extensionMs = 0;
  await rollout.record({
    to: stage.mode,
    actor: 'arena',
    reason: `stage ${m.stageIndex + 1}/${policy.stages.length}: ${stage.mode}${stage.mode === 'canary' ? ` ${stage.weight}%` : ''} for ${stage.duration / 1000}s`,
  });
}

export async function decision(rollout: Rollout): Promise<void> {
  const { input, memory: m, policy } = rollout;
  if (m.phase !== 'deciding') return;
  if (m.promoteNow) {
    await rollout.record({
      type: 'promote_now',
      actor: m.promoteNow.by,
      reason: m.promoteNow.reason ?? 'promote now',
    });
    m.decision = `promoted early by ${m.promoteNow.by}`;
  } else {
    await rollout.record({ to: 'deciding', actor: 'arena', reason: 'all stages complete' });
    const canaryWindows = m.stageWindows.filter((w) => policy.stages[w.index]?.mode === 'canary');
    const verdict = await analyze(rollout, 'final', canaryWindows.length ? canaryWindows : m.stageWindows);
    let outcome: 'promote' | 'rollback' | 'ask' =
      verdict.decision === 'pass' ? 'promote' : verdict.decision === 'fail' ? 'rollback' : 'ask';
    // Missing data never promotes (DESIGN.md §10): a final verdict still waiting for data (too few samples,
    // or a metric source without data) goes to a person even under onInconclusive: promote. The check is
    // patched in, so histories recorded before it replay as they ran.
    const waitingAsks =
      verdict.decision === 'waiting' &&
      policy.onInconclusive === 'promote' &&
      patched('waiting-never-promotes');
    if (outcome === 'ask' && policy.onInconclusive !== 'ask' && !waitingAsks) outcome = policy.onInconclusive;
    if (outcome === 'rollback')
      return rollBack(
        rollout,
        'rolled_back',
        'arena',
        `final decision: ${verdict.decision}; ${verdict.summary}`,
        // A failed gate rejects the version; an inconclusive one (rolled back by policy) showed no harm.
        verdict.decision === 'fail' ? 'reject' : keptUnlessLegacy(),
      );
    if (outcome === 'ask') {
      await rollout.alert({
        type: 'promotion_pending',
        severity: 'warning',
        title: `${input.model} ${input.challenger}: inconclusive; promote or abort?`,
        details: { analysis: verdict },
        dedupeKey: `${input.rolloutId}:promotion_pending`,
      });
      await rollout.record({
        type: 'decision_requested',
        actor: 'arena',
        reason: `inconclusive: ${verdict.summary}`,
      });
      await condition(() => m.abort !== null || m.promoteNow !== null);
      if (m.abort) return rollBackOnAbort(rollout);
      m.decision = `promoted by ${m.promoteNow!.by} after an inconclusive result`;
    } else {
      m.decision = `promote: ${verdict.summary || 'the challenger passed the gate'}`;
      if (outcome === 'promote' && verdict.partialAdoption) {
        m.partialAdoption = verdict.partialAdoption;
        m.decision += `; partial adoption: ${verdict.partialAdoption.exclude.join(', ')} stay on ${m.previousChampion}`;
      }
    }
  }
  m.phase = 'promotion';
}

export async function promotion(rollout: Rollout): Promise<void> {
  const { input, memory: m, policy } = rollout;
  if (m.phase !== 'promotion') return;
  // The watch's analyses replace lastAnalysis; the promotion's notification shows what the gate decided on.
  m.promotionFigures = verdictFigures(m.lastAnalysis);
  await rollout.record({ to: 'promoting', actor: 'arena', reason: m.decision });
  if (policy.promotion.requireApproval) {
    await rollout.alert({
      type: 'promotion_pending',
      severity: 'warning',
      title: `${input.model} ${input.challenger} passed; approve the promotion`,
      details: { analysis: m.lastAnalysis },
      dedupeKey: `${input.rolloutId}:promotion_approval`,
    });
    await condition(
      () =>
        m.promotionApprovals.length >= policy.approval.minApprovals ||
        m.rejected !== null ||
        m.abort !== null,
    );
    if (m.rejected)
      return rollBack(rollout, 'aborted', m.rejected.by, m.rejected.reason ?? 'promotion rejected', 'reject');
    if (m.abort) return rollBackOnAbort(rollout);
  }
  await acts.promoteChampion({
    model: input.model,
    version: input.challenger,
    actor: 'arena',
    reason: m.decision ?? 'promoted',
    idempotencyKey: `${input.rolloutId}:promote`,
  });
  // Only verdicts of a policy with `segments.onWorse: partial` carry one, so histories from before replay
  // without this activity.
  if (m.partialAdoption) {
    await acts.pinSegments({
      model: input.model,
      key: m.partialAdoption.key,
      values: m.partialAdoption.exclude,
      version: m.previousChampion,
      actor: 'arena',
      reason: `partial adoption of ${input.challenger}: significantly worse in ${m.partialAdoption.exclude.join(', ')}`,
      idempotencyKey: `${input.rolloutId}:partial`,
    });
  }
  if (policy.watch.holdback > 0) {
    await acts.setRouting({
      model: input.model,
      change: {
        challenger: m.previousChampion,
        mode: 'canary',
        weightBp: basisPoints(policy.watch.holdback),
      },
      actor: 'arena',
      reason: `holdback ${policy.watch.holdback}% on the previous champion during the watch`,
      idempotencyKey: `${input.rolloutId}:holdback`,
    });
  }
  m.phase = 'watching';
  m.watchStartedAt = Date.now();
  await rollout.record({
    to: 'watching',
    actor: 'arena',
    reason: `promoted; watching for ${policy.watch.duration / 1000}s`,
  });
}

/**
 * After promotion the watch keeps analysing; a breach, or an abort (`arena rollback`), restores the previous
 * champion. An abort accepted while the promotion itself ran (without promotion approval) is acted on at the
 * watch's start.
 */
export async function watch(rollout: Rollout): Promise<void> {
  const { input, memory: m, policy } = rollout;
  if (m.phase !== 'watching') return;
  rollout.watchHonoursAbort = patched('abort-during-watch');
  const aborted = (): boolean => rollout.watchHonoursAbort === true && m.abort !== null;
  while (m.watchStartedAt !== null && Date.now() < m.watchStartedAt + policy.watch.duration) {
    const lastStage = m.stageWindows[m.stageWindows.length - 1];
    const verdict = await nextVerdict(rollout, {
      mode: 'watch',
      windows: [
        ...(lastStage ? [lastStage] : []),
        { index: policy.stages.length, from: m.watchStartedAt, to: null },
      ],
      deadline: m.watchStartedAt + policy.watch.duration,
      interrupted: aborted,
    });
    if (verdict === 'resumed') continue;
    if (verdict === 'interrupted') return rollBackOnAbort(rollout);
    if (verdict.decision === 'fail')
      return rollBack(rollout, 'rolled_back', 'arena', `breach during watch: ${verdict.summary}`, 'reject');
    if (sourcesFailing(rollout)) await pauseForSources(rollout, verdict);
    await rollout.continueAsNewIfLong();
  }
  if (policy.watch.holdback > 0) {
    await acts.setRouting({
      model: input.model,
      change: { challenger: null, mode: 'off', weightBp: 0 },
      actor: 'arena',
      reason: 'watch complete',
      idempotencyKey: `${input.rolloutId}:holdback:end`,
    });
  }
  // Accepted while the holdback was being removed: the rollout had not ended yet.
  if (aborted()) return rollBackOnAbort(rollout);
  m.phase = 'done';
  await rollout.record({ to: 'promoted', actor: 'arena', reason: 'watch window passed' });
}
