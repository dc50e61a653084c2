import { describe, expect, it } from 'vitest';
import { ConfigError, allSettings, defineSettings, formatDuration, loadConfig, parseDuration, settingsOf, usage } from './config.ts';

describe('parseDuration', () => {
  it.each([
    ['15s', 15_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['7d', 604_800_000],
    ['168h', 604_800_000],
  ])('reads %s as %i ms', (s, ms) => expect(parseDuration(s)).toBe(ms));

  it.each(['', '15', 's', '1h 30m', '-1s', '1y'])('refuses %j', (s) => expect(parseDuration(s)).toBeUndefined());
});

describe('formatDuration', () => {
  it.each([
    [600_000, '10m'],
    [3_600_000, '1h'],
    [90_000, '90s'],
    [1500, '1500ms'],
    [0, '0ms'],
  ])('writes %i ms as %s, which parseDuration reads back', (ms, s) => {
    expect(formatDuration(ms)).toBe(s);
    expect(parseDuration(s)).toBe(ms);
  });
});

describe('loadConfig', () => {
  it('fills in the defaults', () => {
    const cfg = loadConfig([], {});
    expect(cfg).toMatchObject({ leaderElect: true, leaseDurationMs: 15_000, concurrency: 16, httpBindAddress: { host: '0.0.0.0', port: 8080 }, namespace: 'miniapps-system' });
  });

  it("reads a module's settings with the operator's, typed, and only when loaded with them", () => {
    const table = defineSettings({
      probeBindAddress: { flag: 'probe-bind-address', env: 'MINIAPPS_PROBE_BIND_ADDRESS', kind: 'address', off: true, help: 'A listener.', default: () => ':9999' },
      probeInterval: { flag: 'probe-interval', env: 'MINIAPPS_PROBE_INTERVAL', kind: 'duration', help: 'An interval.', default: () => '1m', min: 0 },
    });
    const cfg = loadConfig(['--probe-interval=2s'], { MINIAPPS_PROBE_BIND_ADDRESS: '127.0.0.1:1' }, [table]);
    const own: { probeBindAddress?: { host: string; port: number }; probeIntervalMs: number } = settingsOf(cfg, table);
    expect(own).toEqual({ probeBindAddress: { host: '127.0.0.1', port: 1 }, probeIntervalMs: 2000 });
    expect(settingsOf(loadConfig(['--probe-bind-address=0'], {}, [table]), table).probeBindAddress).toBeUndefined();
    expect(() => loadConfig(['--probe-interval=soon'], {}, [table])).toThrow('Invalid configuration: --probe-interval (MINIAPPS_PROBE_INTERVAL) must be a duration');
    // Loaded without the module's table: its flag is unknown, and its values are not made up.
    expect(() => loadConfig(['--probe-interval=2s'], {})).toThrow(ConfigError);
    expect(() => settingsOf(loadConfig([], {}), table)).toThrow('Configuration read without --probe-bind-address (MINIAPPS_PROBE_BIND_ADDRESS)');
    expect(usage([table])).toContain('--probe-interval (MINIAPPS_PROBE_INTERVAL) [default 1m]');
  });

  it('refuses a setting, flag or variable declared twice', () => {
    const again = defineSettings({ other: { flag: 'concurrency', env: 'MINIAPPS_OTHER', kind: 'int', help: '' } });
    expect(() => allSettings([again])).toThrow('Setting other (--concurrency, MINIAPPS_OTHER) is declared twice');
    expect(() => allSettings([defineSettings({ concurrency: { flag: 'x', env: 'MINIAPPS_X', kind: 'int', help: '' } })])).toThrow('declared twice');
    expect(() => allSettings([defineSettings({ y: { flag: 'y', env: 'MINIAPPS_CONCURRENCY', kind: 'int', help: '' } })])).toThrow('declared twice');
  });

  it('limits API requests to 500 a second with bursts of 1000 unless told otherwise; 0 lifts the limit', () => {
    expect(loadConfig([], {})).toMatchObject({ kubeApiQps: 500, kubeApiBurst: 1000 });
    expect(loadConfig(['--kube-api-qps=7.5'], { MINIAPPS_KUBE_API_BURST: '15' })).toMatchObject({ kubeApiQps: 7.5, kubeApiBurst: 15 });
    expect(loadConfig(['--trusted-proxies=10.0.0.0/8, fd00::/8'], {})).toMatchObject({ trustedProxies: ['10.0.0.0/8', 'fd00::/8'] });
    expect(loadConfig([], {})).toMatchObject({ metricsSecure: true, apiBindAddress: { host: '0.0.0.0', port: 8443 }, webhookClientCaFile: undefined, trustedProxies: undefined });
    expect(loadConfig([], { MINIAPPS_KUBE_API_QPS: '0' }).kubeApiQps).toBe(0);
  });

  it("finding 5: refuses --metrics-secure without the APIs' listener (there would be no /metrics anywhere); --metrics-secure=false serves it on the health port", () => {
    expect(() => loadConfig(['--api-bind-address=0'], {})).toThrow(ConfigError);
    expect(() => loadConfig(['--api-bind-address=0'], {})).toThrow('--metrics-secure');
    expect(loadConfig(['--api-bind-address=0', '--metrics-secure=false'], {})).toMatchObject({ metricsSecure: false, apiBindAddress: undefined });
  });

  it('finding 7: the webhook client names go with the client CA', () => {
    expect(loadConfig(['--webhook-client-ca-file=/ca.crt', '--webhook-client-allowed-names=kube-apiserver, front-proxy'], {}).webhookClientAllowedNames).toEqual(['kube-apiserver', 'front-proxy']);
    expect(loadConfig([], {}).webhookClientAllowedNames).toBeUndefined();
    expect(() => loadConfig(['--webhook-client-allowed-names=kube-apiserver'], {})).toThrow('needs --webhook-client-ca-file');
  });

  it('reads only the forwarded header the proxies write: X-Forwarded-For unless told Forwarded', () => {
    expect(loadConfig([], {}).forwardedHeader).toBe('x-forwarded-for');
    expect(loadConfig(['--forwarded-header=Forwarded'], {}).forwardedHeader).toBe('forwarded');
    expect(() => loadConfig(['--forwarded-header=X-Real-IP'], {})).toThrow(ConfigError);
  });

  it('reads the webhook certificate every minute; generated ones last 90 days, renewed 30 days ahead, of a 10-year CA; rotation is asked for', () => {
    expect(loadConfig([], {})).toMatchObject({
      webhookCertCheckIntervalMs: 60_000,
      webhookCertDurationMs: 2160 * 3_600_000,
      webhookCertRenewBeforeMs: 720 * 3_600_000,
      webhookCaDurationMs: 87600 * 3_600_000,
      webhookCertRotate: false,
    });
    expect(loadConfig(['--webhook-cert-rotate', '--webhook-cert-secret=ns/s', '--webhook-register=false', '--webhook-configuration=mo'], {})).toMatchObject({
      webhookCertRotate: true,
      webhookConfiguration: 'mo',
    });
  });

  it('serves the embedded identity provider here, in a process of its own (--identity-only), or not at all; the accounts are its whenever it is served', () => {
    const ISSUER = '--identity-issuer=https://id.example.com';
    expect(loadConfig([], {})).toMatchObject({ identityEmbedded: false, identityOnly: false });
    expect(loadConfig(['--identity-bind-address=:9444', ISSUER], {})).toMatchObject({ identityEmbedded: true, identityOnly: false });
    // The operator of the chart's split: accounts made here, served by the identity Deployment.
    expect(loadConfig(['--identity-embedded', ISSUER], {})).toMatchObject({ identityEmbedded: true, identityBindAddress: undefined });
    // An external provider's issuer alone: no accounts here.
    expect(loadConfig([ISSUER], {}).identityEmbedded).toBe(false);
    expect(() => loadConfig(['--identity-embedded'], {})).toThrow('--identity-embedded (MINIAPPS_IDENTITY_EMBEDDED) needs --identity-issuer');
    expect(loadConfig(['--identity-only', '--identity-bind-address=:9444', ISSUER, '--identity-cert-secret=ns/cert'], {})).toMatchObject({
      identityOnly: true,
      identityEmbedded: true,
      identityCertSecret: { namespace: 'ns', name: 'cert' },
    });
    expect(() => loadConfig(['--identity-only', ISSUER, '--identity-cert-dir=/certs'], {})).toThrow('needs --identity-bind-address');
    // Alone and given no certificate, it makes its own (identity/listener.ts).
    expect(loadConfig(['--identity-only', '--identity-bind-address=:9444', ISSUER], {})).toMatchObject({ identityOnly: true, identityCertDir: undefined, identityCertSecret: undefined });
    // Its Secrets: in the operator's namespace unless given one of their own.
    expect(loadConfig(['--namespace=ops'], {}).identityNamespace).toBe('ops');
    expect(loadConfig(['--namespace=ops', '--identity-namespace=ops-identity'], {}).identityNamespace).toBe('ops-identity');
    expect(() => loadConfig(['--identity-bind-address=:9444', ISSUER, '--identity-cert-dir=/certs', '--identity-cert-secret=ns/cert'], {})).toThrow('set one');
  });

  it('takes flags over environment', () => {
    const cfg = loadConfig(['--concurrency=3', '--leader-elect=false'], { MINIAPPS_CONCURRENCY: '9' });
    expect(cfg.concurrency).toBe(3);
    expect(cfg.leaderElect).toBe(false);
  });

  it.each([
    [['--concurrency=0'], {}, /--concurrency \(MINIAPPS_CONCURRENCY\) must be a whole number of at least 1, got "0"/],
    [[], { MINIAPPS_LEASE_DURATION: 'soon' }, /--lease-duration \(MINIAPPS_LEASE_DURATION\) must be a duration/],
    [['--http-bind-address=8080'], {}, /--http-bind-address .* must be \[host\]:port/],
    [['--namespace=Bad_NS'], {}, /--namespace .* DNS-1123/],
    [['--log-level=loud'], {}, /--log-level .* one of trace/],
    [['--renew-deadline=20s'], {}, /--renew-deadline must be shorter than --lease-duration/],
    [['--no-such-flag'], {}, /Unknown option '--no-such-flag'/],
    [['--trusted-proxies=10.0.0.0/8,ingress'], {}, /--trusted-proxies \(MINIAPPS_TRUSTED_PROXIES\) must be IP addresses or CIDRs/],
    [['--kube-api-qps=fast'], {}, /--kube-api-qps \(MINIAPPS_KUBE_API_QPS\) must be a number of at least 0, got "fast"/],
    [[], { MINIAPPS_KUBE_API_QPS: '-1' }, /--kube-api-qps \(MINIAPPS_KUBE_API_QPS\) must be a number of at least 0/],
    [['--kube-api-burst=0'], {}, /--kube-api-burst \(MINIAPPS_KUBE_API_BURST\) must be a whole number of at least 1/],
    [['--webhook-cert-rotate'], {}, /--webhook-cert-rotate \(MINIAPPS_WEBHOOK_CERT_ROTATE\) needs --webhook-cert-secret/],
    [['--webhook-cert-rotate', '--webhook-cert-secret=ns/s', '--webhook-cert-dir=/tmp/x'], {}, /cannot be used with --webhook-cert-dir/],
    [['--webhook-cert-rotate', '--webhook-cert-secret=ns/s', '--webhook-register=false'], {}, /needs --webhook-configuration/],
    [['--webhook-cert-renew-before=2160h'], {}, /--webhook-cert-renew-before \(MINIAPPS_WEBHOOK_CERT_RENEW_BEFORE\) must be shorter than --webhook-cert-duration/],
    [
      ['--webhook-cert-duration=30s', '--webhook-cert-renew-before=10s', '--webhook-ca-duration=60s'],
      {},
      /--webhook-ca-duration \(MINIAPPS_WEBHOOK_CA_DURATION\) must be at least 3 × --webhook-cert-duration/,
    ],
  ])('refuses %j %j with a message naming the setting', (argv, env, message) => {
    expect(() => loadConfig(argv, env)).toThrow(ConfigError);
    expect(() => loadConfig(argv, env)).toThrow(message);
  });

  it.each([
    ['flags', ['--smtp-security=none', '--smtp-credentials-secret=mail/smtp'], {}],
    ['environment', [], { MINIAPPS_SMTP_SECURITY: 'none', MINIAPPS_SMTP_CREDENTIALS_SECRET: 'mail/smtp' }],
  ])('refuses SMTP credentials with --smtp-security=none (they would cross the network in clear), from %s', (_from, argv, env) => {
    expect(() => loadConfig(argv, env)).toThrow(ConfigError);
    expect(() => loadConfig(argv, env)).toThrow(/--smtp-credentials-secret \(MINIAPPS_SMTP_CREDENTIALS_SECRET\).*--smtp-security=none \(MINIAPPS_SMTP_SECURITY\).*starttls or tls/);
  });

  it.each(['starttls', 'tls'])('takes SMTP credentials with --smtp-security=%s', (security) => {
    expect(loadConfig([`--smtp-security=${security}`, '--smtp-credentials-secret=mail/smtp'], {}).smtpCredentialsSecret).toEqual({ namespace: 'mail', name: 'smtp' });
  });

  it('takes --smtp-security=none without credentials (a relay on loopback)', () => {
    expect(loadConfig(['--smtp-security=none'], {}).smtpSecurity).toBe('none');
  });
});
