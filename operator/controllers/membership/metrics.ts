// The Membership slice's metrics, registered with the operator's through its module (runtime/metrics.ts MetricSet).
import { defineMetrics } from '../../runtime/metrics.ts';

export const invitationMetrics = defineMetrics('invitation', (m) => ({
  emails: m.counter({
    name: 'miniapps_invitation_emails_total',
    help: 'Invitation and access notification emails the operator tried to send, by result (sent, failed) and reason (the Membership condition reason of a failure; empty when sent).',
    labelNames: ['result', 'reason'] as const,
  }),
}));
