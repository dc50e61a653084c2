// The plugin's commands on an in-memory API: what they print, what they write, their exit codes.
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { MiniApp } from '../api/miniapp/schema.ts';
import type { SuperApp } from '../api/superapp/schema.ts';
import { ApiError } from '../runtime/errors.ts';
import type { AnyObject, ObjectBody } from '../runtime/kube/client.ts';
import type { ResourceType } from '../runtime/kube/resource.ts';
import { parseRequestTimeout } from './core.ts';
import { EXIT, run, table } from './plugin.ts';
import type { GlobalOptions, PluginApi } from './plugin.ts';

const mini = (name: string, ns: string, spec: Partial<MiniApp['spec']> = {}, status: MiniApp['status'] = {}): MiniApp => ({
  apiVersion: 'miniapps.dev/v1alpha1',
  kind: 'MiniApp',
  metadata: { name, namespace: ns, uid: `uid-${name}`, resourceVersion: '7', finalizers: ['miniapps.dev/miniapp'], annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' } },
  spec: { appName: name.replaceAll('-', '_'), type: 'Numeric', ...spec },
  status,
});

class FakeApi implements PluginApi {
  readonly objects = new Map<string, AnyObject>();
  readonly writes: string[] = [];
  denyCreate?: string;
  private key = (rt: ResourceType, name: string, ns?: string) => `${rt.plural}/${ns ?? ''}/${name}`;
  put(rt: { plural: string }, obj: AnyObject) {
    this.objects.set(`${rt.plural}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`, obj);
  }
  async get<T extends AnyObject>(rt: ResourceType, name: string, ns?: string) {
    return structuredClone(this.objects.get(this.key(rt, name, ns))) as T | undefined;
  }
  async list<T extends AnyObject>(rt: ResourceType, ns?: string) {
    return [...this.objects.entries()].filter(([k]) => k.startsWith(`${rt.plural}/${ns === undefined ? '' : `${ns}/`}`)).map(([, v]) => structuredClone(v) as T);
  }
  async create<T extends AnyObject>(rt: ResourceType, obj: ObjectBody) {
    if (this.denyCreate) throw new ApiError(403, 'Forbidden', this.denyCreate);
    this.writes.push(`create ${this.key(rt, obj.metadata.name!, obj.metadata.namespace)}`);
    this.objects.set(this.key(rt, obj.metadata.name!, obj.metadata.namespace), obj);
    return obj as T;
  }
  async patch<T extends AnyObject>(rt: ResourceType, name: string, ns: string | undefined, patch: unknown) {
    this.writes.push(`patch ${this.key(rt, name, ns)} ${JSON.stringify(patch)}`);
    return (await this.get<T>(rt, name, ns))!;
  }
  async delete(rt: ResourceType, name: string, ns?: string) {
    this.writes.push(`delete ${this.key(rt, name, ns)}`);
    return this.objects.delete(this.key(rt, name, ns));
  }
}

function setup(answer?: string) {
  const api = new FakeApi();
  const out: string[] = [];
  const err: string[] = [];
  const prompts: string[] = [];
  const exec = (...argv: string[]) =>
    run(argv, {
      io: { out: (t) => out.push(t), err: (t) => err.push(t), readLine: async (p) => (prompts.push(p), answer) },
      connect: () => ({ api, defaultNamespace: 'org-partner' }),
    });
  return { api, exec, out: () => out.join(''), err: () => err.join(''), prompts };
}

function seeded(answer?: string) {
  const s = setup(answer);
  s.api.put(
    { plural: 'miniapps' },
    mini(
      'quick-pay',
      'org-partner',
      { categories: ['Payments'], publishedVersion: '1.0', superApps: [{ name: 'own' }, { organization: 'bank', name: 'wallet' }], dataPrivacy: { protection: 'EnvelopeEncryption' } },
      {
        organization: 'partner',
        superApps: [{ organization: 'bank', name: 'wallet', state: 'Listed', version: '1.0' }],
        dataKey: { secretName: 'quick-pay-data-key', keyEncryptionKeyId: 'v1', wrappedAt: '2026-01-01T00:00:00Z' },
      },
    ),
  );
  s.api.put({ plural: 'miniapps' }, mini('fx-rates', 'org-partner', { categories: ['Travel'], domain: 'currency' }, { organization: 'partner' }));
  s.api.put({ plural: 'miniapps' }, mini('branch-finder', 'org-bank', { categories: ['Utilities'] }, { organization: 'bank' }));
  return s;
}

describe('kubectl miniapps', () => {
  it('prints a kubectl-style table', () => {
    expect(
      table(
        ['NAME', 'TYPE'],
        [
          ['a', 'Numeric'],
          ['longer-name', ''],
        ],
      ),
    ).toBe('NAME          TYPE\na             Numeric\nlonger-name   <none>\n');
  });

  it('list shows organization, type, categories and where each stands, in the current namespace or all', async () => {
    const s = seeded();
    expect(await s.exec('list')).toBe(EXIT.ok);
    expect(s.out()).toBe(
      table(
        ['NAME', 'ORGANIZATION', 'TYPE', 'CATEGORIES', 'PUBLISHED', 'SUPER APPS'],
        [
          ['fx-rates', 'partner', 'Numeric', 'Travel', '', ''],
          ['quick-pay', 'partner', 'Numeric', 'Payments', '1.0', 'bank/wallet=Listed(1.0)'],
        ],
      ),
    );
    const all = seeded();
    await all.exec('list', '-A', '--category', 'utilities');
    expect(all.out()).toContain('NAMESPACE');
    expect(all.out()).toContain('branch-finder');
    expect(all.out()).not.toContain('quick-pay');
  });

  it('search matches name, app name, domain, categories and locations, case-insensitively', async () => {
    const s = seeded();
    await s.exec('search', 'CURRENCY');
    expect(s.out()).toContain('fx-rates');
    expect(s.out()).not.toContain('quick-pay');
    const none = seeded();
    expect(await none.exec('search', 'nothing-like-it')).toBe(EXIT.ok);
    expect(none.err()).toBe('No resources found in org-partner namespace.\n');
  });

  it('list -o json prints a List, -o yaml the same in YAML', async () => {
    const s = seeded();
    await s.exec('list', '-o', 'json');
    expect(JSON.parse(s.out())).toMatchObject({ kind: 'List', items: [{ metadata: { name: 'fx-rates' } }, { metadata: { name: 'quick-pay' } }] });
    const y = seeded();
    await y.exec('list', '-o', 'yaml');
    expect(parseYaml(y.out())).toMatchObject({ kind: 'List' });
  });

  it('duplicate copies only the spec: a new name and appName, targets spelled out, no status, uid, finalizer, annotation or data key', async () => {
    const s = seeded();
    expect(await s.exec('duplicate', 'quick-pay', 'quick-pay-2', '--data-privacy', 'IrreversibleMasking', '-o', 'yaml')).toBe(EXIT.ok);
    const copy = parseYaml(s.out()) as MiniApp;
    expect(copy).toEqual({
      apiVersion: 'miniapps.dev/v1alpha1',
      kind: 'MiniApp',
      metadata: { name: 'quick-pay-2', namespace: 'org-partner' },
      spec: {
        appName: 'quick_pay_2',
        type: 'Numeric',
        categories: ['Payments'],
        publishedVersion: '1.0',
        superApps: [
          { organization: 'partner', name: 'own' },
          { organization: 'bank', name: 'wallet' },
        ],
        dataPrivacy: { protection: 'IrreversibleMasking' },
      },
    });
    expect(s.api.writes).toEqual([]); // -o prints instead of creating

    const c = seeded();
    expect(await c.exec('duplicate', 'quick-pay', 'pay-copy', '--app-name', 'PayCopy')).toBe(EXIT.ok);
    expect(c.out()).toBe('miniapp.miniapps.dev/pay-copy created\n');
    expect(c.api.writes).toEqual(['create miniapps/org-partner/pay-copy']);
    const created = (await c.api.get<MiniApp>({ plural: 'miniapps' } as ResourceType, 'pay-copy', 'org-partner'))!;
    expect(created.spec).toMatchObject({ appName: 'PayCopy', dataPrivacy: { protection: 'EnvelopeEncryption' } });
    expect(JSON.stringify(created)).not.toMatch(/uid-|data-key|finalizers|last-applied/);
  });

  it("duplicate into another organization goes to its namespace; a refusal is exit 4 with the server's message", async () => {
    const s = seeded();
    s.api.put({ plural: 'organizations' }, { metadata: { name: 'other' }, status: { namespace: 'org-other' } } as AnyObject);
    await s.exec('duplicate', 'fx-rates', 'fx', '--organization', 'other', '-o', 'json');
    expect(JSON.parse(s.out()).metadata).toEqual({ name: 'fx', namespace: 'org-other' });
    s.api.denyCreate = 'admission webhook "validate.miniapps.dev" denied the request: Organization other may not create mini apps';
    expect(await s.exec('duplicate', 'fx-rates', 'fx', '--organization', 'other')).toBe(EXIT.forbidden);
    expect(s.err()).toContain('may not create mini apps');
  });

  it("catalog prints the live catalog or a version's snapshot; -o json the bytes as published", async () => {
    const s = setup();
    const doc = {
      superApp: { organization: 'bank', name: 'wallet', displayName: 'Wallet' },
      miniApps: [{ organization: 'partner', name: 'quick-pay', appName: 'quick_pay', type: 'Intent', version: '1.0', categories: ['Payments'], dataPrivacy: { protection: 'None' }, featured: true }],
    };
    const json = `${JSON.stringify(doc, null, 2)}\n`;
    s.api.put({ plural: 'superapps' }, {
      metadata: { name: 'wallet', namespace: 'org-partner' },
      spec: { displayName: 'Wallet' },
      status: { catalog: { configMapName: 'wallet-catalog', miniApps: 1 }, versions: [{ name: '1.0', configMapName: 'wallet-catalog-1.0', miniApps: 0, frozenAt: 'x' }] },
    } as SuperApp);
    s.api.put({ plural: 'configmaps' }, { metadata: { name: 'wallet-catalog', namespace: 'org-partner' }, data: { 'catalog.json': json } } as AnyObject);
    expect(await s.exec('catalog', 'wallet')).toBe(EXIT.ok);
    expect(s.out()).toBe(
      table(
        ['#', 'ORGANIZATION', 'NAME', 'APP NAME', 'TYPE', 'VERSION', 'CATEGORIES', 'PROTECTION', 'FEATURED'],
        [['1', 'partner', 'quick-pay', 'quick_pay', 'Intent', '1.0', 'Payments', 'None', 'yes']],
      ),
    );
    const j = setup();
    j.api.objects.clear();
    for (const [k, v] of s.api.objects) j.api.objects.set(k, v);
    await j.exec('catalog', 'wallet', '-o', 'json');
    expect(j.out()).toBe(json);
    expect(await j.exec('catalog', 'wallet', '--version', '9.9')).toBe(EXIT.notFound);
    expect(j.err()).toContain('no snapshot of version 9.9 (frozen: 1.0)');
  });

  it('delete asks for CONFIRM DELETE, then annotates and deletes', async () => {
    const s = seeded('CONFIRM DELETE');
    expect(await s.exec('delete', 'quick-pay')).toBe(EXIT.ok);
    expect(s.prompts[0]).toContain('Type CONFIRM DELETE to delete it');
    expect(s.api.writes).toEqual(['patch miniapps/org-partner/quick-pay {"metadata":{"annotations":{"miniapps.dev/confirm-delete":"CONFIRM DELETE"}}}', 'delete miniapps/org-partner/quick-pay']);
    expect(s.out()).toBe('miniapp.miniapps.dev "quick-pay" deleted\n');
  });

  it.each([['yes'], ['confirm delete'], [undefined]])('delete answered %j deletes nothing (exit 5)', async (answer) => {
    const s = seeded(answer);
    expect(await s.exec('delete', 'quick-pay')).toBe(EXIT.notConfirmed);
    expect(s.api.writes).toEqual([]);
  });

  it.each<[string[], number]>([
    [['delete', 'nope'], EXIT.notFound],
    [['frobnicate'], EXIT.usage],
    [['list', '--bogus'], EXIT.usage],
    [['list', '-o', 'xml'], EXIT.usage],
    [['duplicate', 'only-one'], EXIT.usage],
    [['duplicate', 'quick-pay', 'x', '--data-privacy', 'Rot13'], EXIT.usage],
  ])('%j exits %i', async (argv, code) => {
    expect(await seeded('CONFIRM DELETE').exec(...argv)).toBe(code);
  });
});

describe('onboard and token-roles', () => {
  const tenant = (name: string, stack?: string, ns = `tenant-${name}`) => ({
    apiVersion: 'miniapps.dev/v1alpha1',
    kind: 'Tenant',
    metadata: { name },
    spec: { displayName: name, ...(stack ? { stack } : {}) },
    status: ns ? { namespace: ns } : {},
  });
  const world = () => {
    const s = setup();
    for (const t of [tenant('a', 'eu-1'), tenant('b', 'eu-1'), tenant('c', 'us-1'), tenant('d', 'eu-1', '')]) s.api.put({ plural: 'tenants' }, t as AnyObject);
    return s;
  };

  it('subscribes the named tenants, each in its namespace, and says which', async () => {
    const s = world();
    expect(await s.exec('onboard', 'acme/gated', '--tenants', 'a,b')).toBe(EXIT.ok);
    expect(s.api.writes).toEqual(['create subscriptions/tenant-a/gated', 'create subscriptions/tenant-b/gated']);
    expect((await s.api.get<AnyObject & { spec: unknown }>({ plural: 'subscriptions' } as ResourceType, 'gated', 'tenant-a'))?.spec).toEqual({ solution: { organization: 'acme', name: 'gated' } });
    expect(s.out()).toContain('subscription.miniapps.dev/gated created in tenant-a (tenant a)');
  });

  it("subscribes a stack's tenants that have a namespace, reports the others, and leaves existing subscriptions alone", async () => {
    const s = world();
    await s.exec('onboard', 'acme/gated', '--tenants', 'a');
    s.api.writes.length = 0;
    expect(await s.exec('onboard', 'acme/gated', '--stack', 'eu-1', '--version', '2.0.0')).toBe(EXIT.notFound);
    expect(s.api.writes).toEqual(['create subscriptions/tenant-b/gated']);
    expect(s.out()).toContain('unchanged in tenant-a');
    expect(s.err()).toContain('Tenant d has no namespace yet');
  });

  it.each([
    { case: 'neither --tenants nor --stack', argv: ['onboard', 'acme/gated'], code: EXIT.usage },
    { case: 'both --tenants and --stack', argv: ['onboard', 'acme/gated', '--tenants', 'a', '--stack', 'eu-1'], code: EXIT.usage },
    { case: 'a solution without its organization', argv: ['onboard', 'gated', '--tenants', 'a'], code: EXIT.usage },
    { case: 'a tenant that does not exist', argv: ['onboard', 'acme/gated', '--tenants', 'zz'], code: EXIT.notFound },
  ])('refuses $case', async ({ argv, code }) => {
    const s = world();
    expect(await s.exec(...argv)).toBe(code);
    expect(s.api.writes).toEqual([]);
  });

  it("prints the seed's answer: the user's roles the app requires", async () => {
    const s = setup();
    const r = (n: string) => `role:gated-frontend:${n}`;
    s.api.put({ plural: 'users' }, {
      apiVersion: 'miniapps.dev/v1alpha1',
      kind: 'User',
      metadata: { name: 'thandi', namespace: 'tenant-a' },
      spec: {},
      status: { effectiveRoles: [r('a'), r('b'), r('c'), r('d')] },
    } as AnyObject);
    s.api.put({ plural: 'organizations' }, { apiVersion: 'miniapps.dev/v1alpha1', kind: 'Organization', metadata: { name: 'acme' }, spec: {}, status: { namespace: 'org-acme' } } as AnyObject);
    // The last good manifest in status is what counts (the spec's newest one is not validated yet).
    // As the operator writes it: its organization holds the app's ids (IdsOwned True).
    const owned = { type: 'IdsOwned', status: 'True', reason: 'IdsOwned', message: '' };
    s.api.put({ plural: 'appmanifests' }, {
      apiVersion: 'miniapps.dev/v1alpha1',
      kind: 'AppManifest',
      metadata: { name: 'frontend', namespace: 'org-acme' },
      spec: { appId: 'fe', listingId: 'gated-frontend', rolesRequired: [`platform:${r('c')}`] },
      status: { conditions: [owned], manifestDigest: 'd1', manifest: { rolesRequired: [`platform:${r('a')}`, `platform:${r('b')}`] } },
    } as AnyObject);
    expect(await s.exec('token-roles', 'thandi', '--app', 'acme/frontend', '-n', 'tenant-a')).toBe(EXIT.ok);
    expect(s.out()).toBe(table(['ROLE'], [[r('a')], [r('b')]]));
    s.api.put({ plural: 'appmanifests' }, {
      apiVersion: 'miniapps.dev/v1alpha1',
      kind: 'AppManifest',
      metadata: { name: 'fresh', namespace: 'org-acme' },
      spec: { appId: 'fe2', listingId: 'gated-frontend', rolesRequired: [`platform:${r('a')}`] },
    } as AnyObject);
    expect(await s.exec('token-roles', 'thandi', '--app', 'acme/fresh', '-n', 'tenant-a')).toBe(EXIT.ok);
    expect(s.err()).toContain('it has no valid manifest yet');
    expect(await s.exec('token-roles', 'thandi', '--app', 'acme/frontend', '-n', 'tenant-a', '-o', 'json')).toBe(EXIT.ok);
    expect(JSON.parse(s.out().slice(s.out().lastIndexOf('{\n    "user"')))).toMatchObject({ audience: 'acme/fe', roles: [r('a'), r('b')] });
    expect(await s.exec('token-roles', 'nobody', '--app', 'acme/frontend', '-n', 'tenant-a')).toBe(EXIT.notFound);
    expect(await s.exec('token-roles', 'thandi', '-n', 'tenant-a')).toBe(EXIT.usage);
  });

  it('item 3: answers no role for an app whose ids another organization claimed, and none of a listing its organization does not own', async () => {
    const s = setup();
    const r = (n: string) => `role:gated-frontend:${n}`;
    s.api.put({ plural: 'users' }, {
      apiVersion: 'miniapps.dev/v1alpha1',
      kind: 'User',
      metadata: { name: 'thandi', namespace: 'tenant-a' },
      spec: {},
      status: { effectiveRoles: [r('a'), r('b'), 'role:other-listing:admin'] },
    } as AnyObject);
    s.api.put({ plural: 'organizations' }, { apiVersion: 'miniapps.dev/v1alpha1', kind: 'Organization', metadata: { name: 'evil' }, spec: {}, status: { namespace: 'org-evil' } } as AnyObject);
    const manifest = { rolesRequired: [`platform:${r('a')}`, `platform:${r('b')}`, 'platform:role:other-listing:admin'] };
    const claimed = { type: 'IdsOwned', status: 'False', reason: 'AppIdClaimed', message: 'appId "fe" was claimed first by another organization' };
    s.api.put({ plural: 'appmanifests' }, {
      apiVersion: 'miniapps.dev/v1alpha1',
      kind: 'AppManifest',
      metadata: { name: 'copycat', namespace: 'org-evil' },
      spec: { appId: 'fe', listingId: 'gated-frontend' },
      status: { conditions: [claimed], manifestDigest: 'd1', manifest },
    } as AnyObject);
    expect(await s.exec('token-roles', 'thandi', '--app', 'evil/copycat', '-n', 'tenant-a', '-o', 'json')).toBe(EXIT.ok);
    expect(JSON.parse(s.out())).toMatchObject({ audience: 'evil/fe', roles: [] });
    const owned = { type: 'IdsOwned', status: 'True', reason: 'IdsOwned', message: '' };
    s.api.put({ plural: 'appmanifests' }, {
      apiVersion: 'miniapps.dev/v1alpha1',
      kind: 'AppManifest',
      metadata: { name: 'own', namespace: 'org-evil' },
      spec: { appId: 'own', listingId: 'other-listing' },
      status: { conditions: [owned], manifestDigest: 'd1', manifest, unownedRoles: [`platform:${r('a')}`, `platform:${r('b')}`] },
    } as AnyObject);
    expect(await s.exec('token-roles', 'thandi', '--app', 'evil/own', '-n', 'tenant-a')).toBe(EXIT.ok);
    expect(s.out()).toContain('role:other-listing:admin');
    expect(s.out()).not.toContain(r('a'));
  });

  it('item 3 (review finding 11): a plugin upgraded before the operator answers the rolesRequired of a status with no IdsOwned at all (as that operator does)', async () => {
    const s = setup();
    const r = (n: string) => `role:gated-frontend:${n}`;
    s.api.put({ plural: 'users' }, {
      apiVersion: 'miniapps.dev/v1alpha1',
      kind: 'User',
      metadata: { name: 'thandi', namespace: 'tenant-a' },
      spec: {},
      status: { effectiveRoles: [r('a'), r('b')] },
    } as AnyObject);
    s.api.put({ plural: 'organizations' }, { apiVersion: 'miniapps.dev/v1alpha1', kind: 'Organization', metadata: { name: 'acme' }, spec: {}, status: { namespace: 'org-acme' } } as AnyObject);
    const ready = { type: 'Ready', status: 'True', reason: 'Ready', message: '' };
    s.api.put({ plural: 'appmanifests' }, {
      apiVersion: 'miniapps.dev/v1alpha1',
      kind: 'AppManifest',
      metadata: { name: 'frontend', namespace: 'org-acme' },
      spec: { appId: 'fe', listingId: 'gated-frontend' },
      status: { conditions: [ready], manifestDigest: 'd1', manifest: { rolesRequired: [`platform:${r('a')}`] } },
    } as AnyObject);
    expect(await s.exec('token-roles', 'thandi', '--app', 'acme/frontend', '-n', 'tenant-a', '-o', 'json')).toBe(EXIT.ok);
    expect(JSON.parse(s.out())).toMatchObject({ roles: [r('a')] });
  });
});

describe("arguments and kubectl's global flags", () => {
  /** run() with a connect that records the global flags it was given. */
  function recording() {
    const s = seeded();
    const connects: GlobalOptions[] = [];
    const err: string[] = [];
    const exec = (...argv: string[]) =>
      run(argv, {
        io: { out: () => {}, err: (t) => err.push(t), readLine: async () => undefined },
        connect: (g) => {
          connects.push(g);
          return { api: s.api, defaultNamespace: 'org-partner' };
        },
      });
    return { exec, connects, err: () => err.join('') };
  }

  it.each([
    ['onboard', 'acme/gated'],
    ['onboard', 'gated', '--tenants', 'a'],
    ['onboard', 'acme/gated', '--tenants', 'a', '--stack', 'eu-1'],
    ['token-roles', 'thandi'],
    ['token-roles', 'thandi', '--app', 'frontend'],
    ['duplicate', 'quick-pay', 'x', '--data-privacy', 'Rot13'],
    ['duplicate', 'quick-pay', 'x', '-o', 'wide'],
    ['catalog', 'wallet', '--version'],
    ['list', 'extra'],
    ['list', '--request-timeout', '5x'],
    ['list', '--request-timeout', '1d'],
    ['search'],
    ['delete'],
  ])('%j is refused before any connection (exit 2)', async (...argv) => {
    const r = recording();
    expect(await r.exec(...argv)).toBe(EXIT.usage);
    expect(r.connects).toEqual([]);
    expect(r.err()).toMatch(/^error: .+\nRun "kubectl miniapps [a-z-]+ --help" for usage\.\n$/);
  });

  it('hands --kubeconfig, --context, --as, --as-group (names with spaces, repeated), --request-timeout and -n to the connection, before or after the command', async () => {
    const r = recording();
    expect(
      await r.exec('--context', 'kind-b', 'list', '--kubeconfig', '/k', '--as', 'mallory', '--as-group', 'mallory crew', '--as-group', 'ops', '--request-timeout', '1m30s', '-n', 'org-bank'),
    ).toBe(EXIT.ok);
    expect(r.connects).toEqual([{ context: 'kind-b', kubeconfig: '/k', as: 'mallory', asGroup: ['mallory crew', 'ops'], requestTimeout: { ms: 90_000, text: '1m30s' }, namespace: 'org-bank' }]);
  });

  it('-n picks the namespace the command reads; an argument with spaces stays one argument', async () => {
    const s = seeded();
    expect(await s.exec('list', '-n', 'org-bank')).toBe(EXIT.ok);
    expect(s.out()).toContain('branch-finder');
    expect(s.out()).not.toContain('quick-pay');
    const t = seeded();
    expect(await t.exec('search', 'two words')).toBe(EXIT.ok);
    expect(t.err()).toBe('No resources found in org-partner namespace.\n');
  });

  it('reads --request-timeout as kubectl does: a Go duration, or whole seconds', () => {
    expect(parseRequestTimeout('0')).toEqual({ ms: 0, text: '0' });
    expect(parseRequestTimeout('5')).toEqual({ ms: 5000, text: '5s' });
    expect(parseRequestTimeout('1h2m3.5s').ms).toBe(3_723_500);
    expect(parseRequestTimeout('250ms').ms).toBe(250);
    for (const bad of ['', 's', '1d', '1m 2s', '-1s', '5x']) expect(() => parseRequestTimeout(bad), bad).toThrow(/expected a duration/);
  });
});
