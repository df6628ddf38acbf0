import { z } from 'zod';
import { ALERT_SEVERITIES, ALERT_STATUSES } from '../../alerts/alert-store.js';

export const alertSchema = z
  .object({
    id: z.union([z.number().int(), z.string()]).describe('A bigint: a string once past 2^53.'),
    type: z.string(),
    severity: z.enum(ALERT_SEVERITIES),
    status: z.enum(ALERT_STATUSES),
    model: z.string().nullable(),
    rolloutId: z.string().nullable(),
    title: z.string(),
    details: z.record(z.string(), z.unknown()),
    actionedBy: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Alert' });

const bySeverity = z.object(Object.fromEntries(ALERT_SEVERITIES.map((s) => [s, z.number().int()])));

export const alertStatsSchema = z
  .object({ unread: bySeverity, open: bySeverity, total: z.number().int() })
  .meta({ id: 'AlertStats' });

export const alertApprovalSchema = z
  .object({
    alert: alertSchema,
    action: z.enum(['approve', 'promoteNow']),
    rolloutId: z.string(),
    state: z.string(),
  })
  .meta({ id: 'AlertApproval' });
