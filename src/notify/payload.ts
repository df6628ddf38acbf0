import type { Alert } from '../alerts/alert-store.js';

export interface AlertLinks {
  temporalUi?: string | undefined;
  /** The rollout's HTML report on Arena's HTTP API, for events about a rollout. */
  report?: string | undefined;
}

/**
 * The figures an event carries for people (`details.figures`: label → value), in the order they were
 * written; anything else in details stays in the JSON body only.
 */
export function figuresOf(alert: Pick<Alert, 'details'>): Array<[string, string]> {
  const f = alert.details.figures;
  if (!f || typeof f !== 'object' || Array.isArray(f)) return [];
  return Object.entries(f as Record<string, unknown>)
    .filter(([, v]) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
    .map(([k, v]) => [k, String(v)]);
}

/** The generic webhook body: the alert as Arena stores it, plus links. */
export function jsonPayload(alert: Alert, links: AlertLinks) {
  return {
    id: alert.id,
    type: alert.type,
    severity: alert.severity,
    status: alert.status,
    title: alert.title,
    model: alert.model,
    rolloutId: alert.rolloutId,
    details: alert.details,
    createdAt: alert.createdAt,
    links,
  };
}

const ICON = { critical: ':rotating_light:', warning: ':warning:', info: ':information_source:' } as const;

/** What a person can do next, by event type; alerts that wait for a person are acted on by id. */
function nextStep(alert: Alert): string {
  if (alert.type === 'approval_requested' && alert.rolloutId)
    return `Approve: \`arena alerts approve ${alert.id}\` (or \`arena rollout approve ${alert.rolloutId} --by YOU\`); reject: \`arena rollout reject ${alert.rolloutId} --by YOU\``;
  if (alert.type === 'champion_resolved') return `Resolved; nothing to do (alert #${alert.id})`;
  if (alert.severity === 'info') return `For information (event #${alert.id})`;
  return `Act on it: \`arena alerts approve ${alert.id}\` or \`arena alerts dismiss ${alert.id}\``;
}

/** A Slack incoming-webhook body (text for notifications, blocks for the message). */
export function slackPayload(alert: Alert, links: AlertLinks) {
  const resolved = alert.type === 'champion_resolved';
  const text = `${resolved ? ':white_check_mark:' : ICON[alert.severity]} [${resolved ? 'resolved' : alert.severity}] ${alert.title}`;
  const facts = [
    alert.model ? `*Model* ${alert.model}` : null,
    alert.rolloutId ? `*Rollout* ${alert.rolloutId}` : null,
    `*Type* ${alert.type}`,
    `*Alert* #${alert.id}`,
  ].filter((x): x is string => x !== null);
  const figures = figuresOf(alert);
  const linkText = [
    links.temporalUi ? `<${links.temporalUi}|Temporal Web UI>` : null,
    links.report ? `<${links.report}|Report>` : null,
  ].filter((x): x is string => x !== null);
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${text}*` } },
      { type: 'section', fields: facts.map((f) => ({ type: 'mrkdwn', text: f })) },
      // Slack takes at most 10 fields in a section.
      ...(figures.length
        ? [
            {
              type: 'section',
              fields: figures.slice(0, 10).map(([k, v]) => ({ type: 'mrkdwn', text: `*${k}* ${v}` })),
            },
          ]
        : []),
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: [nextStep(alert), ...linkText].join(' · ') }],
      },
    ],
  };
}
