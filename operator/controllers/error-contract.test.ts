// The error contract (issue 17) of the controllers craft's per-controller tests do not cover
// (Organization, SuperApp, ApiKey, Subscription and Tenant have theirs beside them): a write
// the API server fails for now (503, a timeout) makes the reconcile throw with the cause, so
// the queue backs off and retries; what retrying cannot fix is a False condition (Stalled
// where only a spec change fixes it) and the reconcile returns. On the in-memory fakes
// (FakeStore.failing); the integration tests prove each controller on the real control plane.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AppManifest } from '../api/appmanifest/schema.ts';
import type { MiniApp } from '../api/miniapp/schema.ts';
import type { MiniAppReview } from '../api/miniappreview/schema.ts';
import type { Organization } from '../api/organization/schema.ts';
import type { PlatformConfig } from '../api/platformconfig/schema.ts';
import type { Solution } from '../api/solution/schema.ts';
import type { User } from '../api/user/schema.ts';
import type { UserGroup } from '../api/usergroup/schema.ts';
import { Kinds } from '../api/registry.ts';
import { Caches } from '../domain/caches.ts';
import type { AnyCacheDecl } from '../runtime/cache.ts';
import { ApiError } from '../runtime/errors.ts';
import type { AnyObject } from '../runtime/kube/client.ts';
import type { ResourceType } from '../runtime/kube/resource.ts';
import type { RecordedWrite } from '../runtime/testing.ts';
import { AppManifestReconciler } from './appmanifest/controller.ts';
import { MiniAppReconciler } from './miniapp/controller.ts';
import { MiniAppReviewReconciler } from './miniappreview/controller.ts';
import { PlatformConfigReconciler } from './platformconfig/controller.ts';
import { SolutionReconciler } from './solution/controller.ts';
import { FakeWorld } from './testing.ts';
import { UserReconciler } from './user/controller.ts';
import { UserGroupReconciler } from './usergroup/controller.ts';

const API = 'miniapps.dev/v1alpha1';
const FRONTEND = parse(readFileSync(new URL('../manifests/testdata/gated-frontend.yaml', import.meta.url), 'utf8')) as AppManifest['spec'];
const UNAVAILABLE = 'the server is currently unable to handle the request';

let world: FakeWorld;
const put = <T extends AnyObject>(rt: ResourceType, decl: AnyCacheDecl, obj: T): T => world.put(rt, decl, obj);
/** Fails every write `match` selects with a 503, as an API server that is briefly unavailable. */
const unavailable = (match: (w: RecordedWrite) => boolean) => {
  world.store.failing = (w) => (match(w) ? new ApiError(503, 'ServiceUnavailable', UNAVAILABLE) : undefined);
};
/** The error the reconcile rejected with, or undefined when it returned. */
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (err: unknown) => err as Error,
  );
/** The error itself or its cause is the API server's. */
const fromServer = (err: Error | undefined) => [err?.message, (err?.cause as Error | undefined)?.message];
const conditionOf = (rt: ResourceType, name: string, ns: string | undefined, type: string) =>
  world.store.peek<{ status?: { conditions?: { type: string; status: string; reason: string }[] } } & AnyObject>(rt, name, ns)?.status?.conditions?.find((c) => c.type === type);

const organization = () =>
  put(Kinds.Organization, Caches.organizations, {
    apiVersion: API,
    kind: 'Organization',
    metadata: { name: 'acme', uid: 'uid-acme' },
    spec: { displayName: 'Acme', capabilities: { superApps: true, miniApps: true } },
    status: { namespace: 'org-acme' },
  } as Organization);

beforeEach(() => {
  world = new FakeWorld();
});

describe('a status write the API server fails for now: the reconcile throws with the cause (the queue backs off), for every controller here', () => {
  const cases: [string, () => Promise<unknown>][] = [
    [
      'MiniApp',
      () => {
        organization();
        put(Kinds.MiniApp, Caches.miniApps, {
          apiVersion: API,
          kind: 'MiniApp',
          metadata: { name: 'pay', namespace: 'org-acme', uid: 'uid-pay', generation: 1 },
          spec: { appName: 'pay', type: 'Numeric', versions: [{ name: '1.0' }] },
        } as MiniApp);
        return new MiniAppReconciler(world.deps).reconcile('org-acme/pay');
      },
    ],
    [
      'MiniAppReview',
      () => {
        organization();
        put(Kinds.MiniAppReview, Caches.miniAppReviews, {
          apiVersion: API,
          kind: 'MiniAppReview',
          metadata: { name: 'r', namespace: 'org-acme', generation: 1 },
          spec: { miniApp: { organization: 'acme', name: 'pay' }, superApp: 'wallet', version: '1.0', decision: 'Approved' },
        } as MiniAppReview);
        return new MiniAppReviewReconciler(world.deps).reconcile('org-acme/r');
      },
    ],
    [
      'Solution',
      () => {
        organization();
        put(Kinds.Solution, Caches.solutions, {
          apiVersion: API,
          kind: 'Solution',
          metadata: { name: 'gated', namespace: 'org-acme', generation: 1 },
          spec: { solutionId: 'gated-solution', version: '1.0.0', manifestFrom: { configMapKeyRef: { name: 'missing', key: 'manifest.yaml' } } },
        } as Solution);
        return new SolutionReconciler(world.deps).reconcile('org-acme/gated');
      },
    ],
    [
      'AppManifest',
      () => {
        put(Kinds.AppManifest, Caches.appManifests, { apiVersion: API, kind: 'AppManifest', metadata: { name: 'gated-frontend', namespace: 'nobodys', generation: 1 }, spec: FRONTEND } as AppManifest);
        return new AppManifestReconciler(world.deps).reconcile('nobodys/gated-frontend');
      },
    ],
    [
      'User',
      () => {
        put(Kinds.User, Caches.users, {
          apiVersion: API,
          kind: 'User',
          metadata: { name: 'ada', namespace: 'tenant-t1', generation: 1 },
          spec: { userCode: 'ada', firstName: 'Ada', email: 'ada@t.example', groups: ['field executive'], designation: 'Field officer' },
        } as User);
        return new UserReconciler(world.deps).reconcile('tenant-t1/ada');
      },
    ],
    [
      'UserGroup',
      () => {
        put(Kinds.UserGroup, Caches.userGroups, {
          apiVersion: API,
          kind: 'UserGroup',
          metadata: { name: 'field-executive', namespace: 'tenant-t1', generation: 1 },
          spec: { displayName: 'field executive', roles: ['role:gated-frontend:viewer'] },
        } as UserGroup);
        return new UserGroupReconciler(world.deps).reconcile('tenant-t1/field-executive');
      },
    ],
    [
      'PlatformConfig',
      () => {
        put(Kinds.PlatformConfig, Caches.platformConfigs, { apiVersion: API, kind: 'PlatformConfig', metadata: { name: 'default', uid: 'uid-pc', generation: 1 }, spec: {} } as PlatformConfig);
        return new PlatformConfigReconciler(world.deps).reconcile('default');
      },
    ],
  ];

  it.each(cases)('%s', async (kind, reconcile) => {
    unavailable((w) => w.verb === 'status' && w.kind === kind);
    const failure = await outcome(reconcile());
    expect(failure, `${kind}: the reconcile must not return as if the write had happened`).toBeInstanceOf(Error);
    expect(fromServer(failure)).toContain(UNAVAILABLE);
    // And with the API server back, the same reconcile writes the status (nothing was left half done).
    world.store.failing = undefined;
    expect(await outcome(reconcile())).toBeUndefined();
    expect(world.store.writes.some((w) => w.verb === 'status' && w.kind === kind)).toBe(true);
  });
});

describe('PlatformConfig: the error contract', () => {
  const platformConfig = (name = 'default') =>
    put(Kinds.PlatformConfig, Caches.platformConfigs, { apiVersion: API, kind: 'PlatformConfig', metadata: { name, uid: `uid-${name}`, generation: 1 }, spec: {} } as PlatformConfig);

  it('a ClusterRoleBinding the API server fails to apply: a Warning event, and the reconcile throws with the cause', async () => {
    platformConfig();
    unavailable((w) => w.kind === 'ClusterRoleBinding');
    const failure = await outcome(new PlatformConfigReconciler(world.deps).reconcile('default'));
    expect(failure?.message).toMatch(/ClusterRoleBinding .* could not be applied/);
    expect((failure?.cause as Error | undefined)?.message).toBe(UNAVAILABLE);
    expect(world.events).toContain('Warning BindingFailed');
  });

  it('a PlatformConfig of another name, which no retry fixes: Ready False NotSingleton and Stalled True, and the reconcile returns', async () => {
    platformConfig('other');
    expect(await outcome(new PlatformConfigReconciler(world.deps).reconcile('other'))).toBeUndefined();
    expect(conditionOf(Kinds.PlatformConfig, 'other', undefined, 'Ready')).toMatchObject({ status: 'False', reason: 'NotSingleton' });
    expect(conditionOf(Kinds.PlatformConfig, 'other', undefined, 'Stalled')).toMatchObject({ status: 'True', reason: 'NotSingleton' });
    expect(world.store.writes.filter((w) => w.verb !== 'status')).toEqual([]);
  });
});

describe('AppManifest: the error contract', () => {
  it('a claim (Lease) the API server fails to create: the reconcile throws with the cause, and no status says the id is taken', async () => {
    organization();
    put(Kinds.AppManifest, Caches.appManifests, { apiVersion: API, kind: 'AppManifest', metadata: { name: 'gated-frontend', namespace: 'org-acme', generation: 1 }, spec: FRONTEND } as AppManifest);
    unavailable((w) => w.verb === 'create' && w.kind === 'Lease');
    const failure = await outcome(new AppManifestReconciler(world.deps).reconcile('org-acme/gated-frontend'));
    expect(fromServer(failure)).toContain(UNAVAILABLE);
    expect(world.store.peek<AppManifest>(Kinds.AppManifest, 'gated-frontend', 'org-acme')?.status?.conditions?.some((c) => /Claimed|Taken/.test(c.reason))).not.toBe(true);
  });

  it('an app in a namespace of no organization, which no retry fixes: a False condition, and the reconcile returns', async () => {
    put(Kinds.AppManifest, Caches.appManifests, { apiVersion: API, kind: 'AppManifest', metadata: { name: 'gated-frontend', namespace: 'nobodys', generation: 1 }, spec: FRONTEND } as AppManifest);
    expect(await outcome(new AppManifestReconciler(world.deps).reconcile('nobodys/gated-frontend'))).toBeUndefined();
    expect(conditionOf(Kinds.AppManifest, 'gated-frontend', 'nobodys', 'Ready')).toMatchObject({ status: 'False' });
  });
});

describe('User: the error contract', () => {
  it('groups that do not exist: GroupsResolved False GroupsMissing (a group made later fixes it: the watch requeues), and the reconcile returns', async () => {
    put(Kinds.User, Caches.users, {
      apiVersion: API,
      kind: 'User',
      metadata: { name: 'ada', namespace: 'tenant-t1', generation: 1 },
      spec: { userCode: 'ada', firstName: 'Ada', email: 'ada@t.example', groups: ['nobody'], designation: 'Field officer' },
    } as User);
    expect(await outcome(new UserReconciler(world.deps).reconcile('tenant-t1/ada'))).toBeUndefined();
    expect(conditionOf(Kinds.User, 'ada', 'tenant-t1', 'GroupsResolved')).toMatchObject({ status: 'False', reason: 'GroupsMissing' });
  });
});
