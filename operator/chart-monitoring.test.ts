// The chart's PrometheusRule (monitoring.prometheusRule.enabled): its rules pass
// `promtool check rules`, and `promtool test rules` fires each alert on the series that
// should fire it, and none on a healthy operator's. The metrics the rules read are the
// operator's own (runtime/metrics.ts), so a renamed metric fails here.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { OperatorMetrics } from './runtime/metrics.ts';
import { MODULE_METRICS } from './controllers/index.ts';
import { findTool, run } from './testenv/tools.ts';

const CHART = fileURLToPath(new URL('../charts/miniapps-operator', import.meta.url));
const helm = findTool('helm');
const promtool = findTool('promtool');
const work = mkdtempSync(join(tmpdir(), 'chart-monitoring-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
const NAMESPACE = 'ops';
const JOB = 'rel-miniapps-operator';
const SEL = `namespace="${NAMESPACE}", job="${JOB}"`;
const DAY = 86_400;

function renderedRules(): Rule[] {
  const out = run(helm!, [
    'template',
    'rel',
    CHART,
    '--namespace',
    NAMESPACE,
    '--kube-version',
    '1.35.0',
    '--set',
    'monitoring.prometheusRule.enabled=true',
    '--show-only',
    'templates/prometheusrule.yaml',
  ]);
  const rule = parse(out) as { spec: { groups: { name: string; rules: Rule[] }[] } };
  return rule.spec.groups.flatMap((g) => g.rules);
}

/** Series of a healthy operator (leader up, no errors), over 2 hours at 1m. */
const healthy = [
  { series: `up{${SEL}, pod="a"}`, values: '1x120' },
  { series: `miniapps_leader{${SEL}, pod="a"}`, values: '1x120' },
  { series: `miniapps_reconcile_errors_total{${SEL}, pod="a", controller="organization"}`, values: '0x120' },
  { series: `miniapps_workqueue_depth{${SEL}, pod="a", controller="organization"}`, values: '3x120' },
  { series: `miniapps_watch_restarts_total{${SEL}, pod="a", resource="organizations", reason="gone"}`, values: '0+1x120' },
  { series: `miniapps_invitation_emails_total{${SEL}, pod="a", result="sent", reason=""}`, values: '0+2x120' },
  // Unix times; the test's clock starts at 0 (eval_time 100m is time() = 6000): a certificate
  // 90 days from expiry, renewed in 60; a key 100 days from expiry, rotated in 1.
  { series: `miniapps_webhook_certificate_expiration_timestamp_seconds{${SEL}, pod="a", source="secret"}`, values: `${90 * DAY}x120` },
  { series: `miniapps_webhook_certificate_renewal_timestamp_seconds{${SEL}, pod="a", source="secret"}`, values: `${60 * DAY}x120` },
  { series: `miniapps_apikey_expiration_timestamp_seconds{${SEL}, pod="a", apikey_namespace="org-acme", apikey_name="ci"}`, values: `${100 * DAY}x120` },
  { series: `miniapps_apikey_renewal_timestamp_seconds{${SEL}, pod="a", apikey_namespace="org-acme", apikey_name="ci"}`, values: `${DAY}x120` },
];
const APIKEY = { apikey_namespace: 'org-acme', apikey_name: 'ci' };
/** For each alert: the series that replace the healthy ones of the same name, and the labels it fires with. */
const FIRING: Record<string, { series: { series: string; values: string }[]; labels: Record<string, string> }> = {
  MiniappsOperatorDown: { series: [{ series: `up{${SEL}, pod="a"}`, values: '0x120' }], labels: { severity: 'critical' } },
  MiniappsOperatorNoLeader: { series: [{ series: `miniapps_leader{${SEL}, pod="a"}`, values: '0x120' }], labels: { severity: 'critical' } },
  MiniappsOperatorReconcileErrors: {
    series: [{ series: `miniapps_reconcile_errors_total{${SEL}, pod="a", controller="organization"}`, values: '0+1x120' }],
    labels: { severity: 'warning', controller: 'organization' },
  },
  MiniappsOperatorQueueBacklog: {
    series: [{ series: `miniapps_workqueue_depth{${SEL}, pod="a", controller="organization"}`, values: '250x120' }],
    labels: { severity: 'warning', controller: 'organization' },
  },
  MiniappsOperatorWatchRestarts: {
    series: [{ series: `miniapps_watch_restarts_total{${SEL}, pod="a", resource="organizations", reason="error"}`, values: '0+1x120' }],
    labels: { severity: 'warning', resource: 'organizations' },
  },
  MiniappsOperatorInvitationFailures: {
    series: [{ series: `miniapps_invitation_emails_total{${SEL}, pod="a", result="failed", reason="SMTPUnavailable"}`, values: '0+1x120' }],
    labels: { severity: 'warning', reason: 'SMTPUnavailable' },
  },
  // 13 days left, under the default 14; 15 days left would not fire (the healthy test's 90 are far from it).
  MiniappsOperatorWebhookCertificateExpiring: {
    series: [{ series: `miniapps_webhook_certificate_expiration_timestamp_seconds{${SEL}, pod="a", source="secret"}`, values: `${13 * DAY}x120` }],
    labels: { severity: 'warning', pod: 'a' },
  },
  // Due at 1000 s: at 6000 more than an hour past (since 4600 s, so for 23 minutes).
  MiniappsOperatorWebhookCertificateRenewalOverdue: {
    series: [{ series: `miniapps_webhook_certificate_renewal_timestamp_seconds{${SEL}, pod="a", source="secret"}`, values: '1000x120' }],
    labels: { severity: 'warning', pod: 'a' },
  },
  MiniappsOperatorApiKeyExpiring: {
    series: [{ series: `miniapps_apikey_expiration_timestamp_seconds{${SEL}, pod="a", apikey_namespace="org-acme", apikey_name="ci"}`, values: `${6 * DAY}x120` }],
    labels: { severity: 'warning', ...APIKEY },
  },
  // Due at 4000 s: 2000 s past at 6000, and more than 900 s past since 4900 s.
  MiniappsOperatorApiKeyRotationOverdue: {
    series: [{ series: `miniapps_apikey_renewal_timestamp_seconds{${SEL}, pod="a", apikey_namespace="org-acme", apikey_name="ci"}`, values: '4000x120' }],
    labels: { severity: 'warning', ...APIKEY },
  },
};
/** Series close to an alert's threshold on the side where it must stay silent. */
const NEAR_MISS: Record<string, { series: string; values: string }[]> = {
  MiniappsOperatorWebhookCertificateExpiring: [{ series: `miniapps_webhook_certificate_expiration_timestamp_seconds{${SEL}, pod="a", source="secret"}`, values: `${15 * DAY}x120` }],
  // Due at 3000 s: 3000 s past at 6000, under the hour.
  MiniappsOperatorWebhookCertificateRenewalOverdue: [{ series: `miniapps_webhook_certificate_renewal_timestamp_seconds{${SEL}, pod="a", source="secret"}`, values: '3000x120' }],
  MiniappsOperatorApiKeyExpiring: [{ series: `miniapps_apikey_expiration_timestamp_seconds{${SEL}, pod="a", apikey_namespace="org-acme", apikey_name="ci"}`, values: `${8 * DAY}x120` }],
  // Due at 5400 s: 600 s past at 6000, under the 15 minutes.
  MiniappsOperatorApiKeyRotationOverdue: [{ series: `miniapps_apikey_renewal_timestamp_seconds{${SEL}, pod="a", apikey_namespace="org-acme", apikey_name="ci"}`, values: '5400x120' }],
};
const metricOf = (series: string) => series.slice(0, series.indexOf('{'));

describe.skipIf(!helm || !promtool)('the PrometheusRule', () => {
  const rules = helm && promtool ? renderedRules() : [];
  const rulesFile = join(work, 'rules.yaml');
  writeFileSync(rulesFile, stringify({ groups: [{ name: 'miniapps-operator', rules }] }));

  it('passes promtool check rules', () => {
    expect(run(promtool!, ['check', 'rules', rulesFile])).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  it('has a test here for each alert, and reads only metrics the operator exports (and up)', () => {
    expect(rules.map((r) => r.alert).sort()).toEqual(Object.keys(FIRING).sort());
    const exported = new Set(['up', ...new OperatorMetrics({ processMetrics: false, sets: MODULE_METRICS }).registry.getMetricsAsArray().map((m) => m.name)]);
    const read = rules.flatMap((r) => [...r.expr.matchAll(/([a-z_:]+)\{/g)].map((m) => m[1]!));
    expect(read.filter((name) => !exported.has(name))).toEqual([]);
  });

  it.each(Object.keys(FIRING))('%s fires on the series that call for it, and no alert fires for a healthy operator (promtool test rules)', (alert) => {
    const firing = FIRING[alert]!;
    const replaced = new Set(firing.series.map((s) => metricOf(s.series)));
    const tests = [
      { interval: '1m', input_series: healthy, alert_rule_test: Object.keys(FIRING).map((a) => ({ eval_time: '100m', alertname: a, exp_alerts: [] })) },
      {
        interval: '1m',
        input_series: [...healthy.filter((s) => !replaced.has(metricOf(s.series))), ...firing.series],
        alert_rule_test: [{ eval_time: '100m', alertname: alert, exp_alerts: [{ exp_labels: firing.labels }] }],
      },
    ];
    // The annotations are part of what promtool compares: take them from the rule, with the labels filled in.
    const rule = rules.find((r) => r.alert === alert)!;
    const annotations = Object.fromEntries(Object.entries(rule.annotations).map(([k, v]) => [k, v.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, l: string) => firing.labels[l] ?? '')]));
    (tests[1]!.alert_rule_test[0]!.exp_alerts[0] as Record<string, unknown>).exp_annotations = annotations;
    const near = NEAR_MISS[alert];
    if (near) {
      const nearNames = new Set(near.map((s) => metricOf(s.series)));
      tests.push({ interval: '1m', input_series: [...healthy.filter((s) => !nearNames.has(metricOf(s.series))), ...near], alert_rule_test: [{ eval_time: '100m', alertname: alert, exp_alerts: [] }] });
    }
    const file = join(work, `${alert}.test.yaml`);
    writeFileSync(file, stringify({ rule_files: [rulesFile], evaluation_interval: '1m', tests }));
    expect(run(promtool!, ['test', 'rules', file])).toContain('SUCCESS');
  });
});

describe('the "Metrics and alerts" table of docs/operate.md', () => {
  const readme = readFileSync(fileURLToPath(new URL('../docs/operate.md', import.meta.url)), 'utf8');
  const section = readme.split(/^## /m).find((s) => s.startsWith('Metrics and alerts\n')) ?? '';
  const rows = section.split('\n').filter((l) => l.startsWith('| `'));

  it('lists every metric the operator exports, once, with its type', () => {
    const metrics = new OperatorMetrics({ sets: MODULE_METRICS }).registry.getMetricsAsArray() as unknown as { name: string; type: string }[];
    const listed = rows.map((r) => {
      const [metric, type] = r.slice(1).split(' | ');
      return [/`([a-z_]+)/.exec(metric!)![1], type!.trim()];
    });
    expect(listed).toEqual(metrics.map((m) => [m.name, String(m.type)]));
  });

  it.skipIf(!helm)('names each alert of the PrometheusRule', () => {
    for (const rule of renderedRules()) expect(section).toContain(rule.alert);
  });
});
