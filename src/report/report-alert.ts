import type { Alert } from '../alerts/alert-store.js';

/** An alert as both reports show it: what it was about and how it ended, not its details. */
export interface ReportAlert {
  type: string;
  severity: string;
  status: string;
  title: string;
  at: string;
}

export function reportAlert(a: Alert): ReportAlert {
  return { type: a.type, severity: a.severity, status: a.status, title: a.title, at: a.createdAt };
}
