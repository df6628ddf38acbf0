export const VERSION_STATUSES = [
  'candidate',
  'shadow',
  'challenger',
  'champion',
  'archived',
  'rejected',
] as const;
export type VersionStatus = (typeof VERSION_STATUSES)[number];

/**
 * Legal status changes. A champion only leaves by being archived (when another takes its place); an archived
 * version may return as champion (rollback to the previous champion, `arena model undo`), be tested again, or
 * be rejected (a breach during its watch after promotion, or an abort with `--reject` then); rejected is final.
 */
export const LEGAL_TRANSITIONS: Record<VersionStatus, readonly VersionStatus[]> = {
  candidate: ['shadow', 'challenger', 'champion', 'rejected', 'archived'],
  shadow: ['challenger', 'champion', 'candidate', 'rejected', 'archived'],
  challenger: ['shadow', 'champion', 'candidate', 'rejected', 'archived'],
  champion: ['archived'],
  archived: ['champion', 'challenger', 'shadow', 'rejected'],
  rejected: [],
};

export function isLegalTransition(from: VersionStatus, to: VersionStatus): boolean {
  return from === to || LEGAL_TRANSITIONS[from].includes(to);
}
