import type { Alert } from '../alerts/alert-store.js';

export interface AlertLinks {
  temporalUi?: string | undefined;
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

/** A Slack incoming-webhook body (text for notifications, blocks for the message). */
export function slackPayload(alert: Alert, links: AlertLinks) {
  const text = `${ICON[alert.severity]} [${alert.severity}] ${alert.title}`;
  const facts = [
    alert.model ? `*Model* ${alert.model}` : null,
    alert.rolloutId ? `*Rollout* ${alert.rolloutId}` : null,
    `*Type* ${alert.type}`,
    `*Alert* #${alert.id}`,
  ].filter((x): x is string => x !== null);
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${text}*` } },
      { type: 'section', fields: facts.map((f) => ({ type: 'mrkdwn', text: f })) },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: `Act on it: \`arena alerts approve ${alert.id}\` or \`arena alerts dismiss ${alert.id}\`${links.temporalUi ? ` · <${links.temporalUi}|Temporal Web UI>` : ''}`,
          },
        ],
      },
    ],
  };
}
