// The Account controller on the in-memory caches and API server: what it records in the
// PlatformConfig's status.accountAdministrators, which the ApiKey admission policy reads.
import { beforeEach, describe, expect, it } from 'vitest';
import type { Account } from '../../api/account/schema.ts';
import type { PlatformConfig } from '../../api/platformconfig/schema.ts';
import { Kinds } from '../../api/registry.ts';
import { Caches } from '../../domain/caches.ts';
import { FakeWorld } from '../testing.ts';
import { AccountReconciler } from './controller.ts';

let world: FakeWorld;
let reconciler: AccountReconciler;

const account = (name: string, provisioningAdministrator: boolean): Account =>
  world.put(Kinds.Account, Caches.accounts, {
    apiVersion: 'miniapps.dev/v1alpha1',
    kind: 'Account',
    metadata: { name, uid: `uid-${name}`, generation: 1 },
    spec: { username: name, email: `${name}@acme.example`, firstName: 'A', lastName: 'B', provisioningAdministrator },
  } as Account);
/** An Account changed in the cache only (the informer saw it; nothing written). */
const change = (name: string, provisioningAdministrator: boolean) => {
  const a = world.caches.cache(Caches.accounts).get(name)!;
  world.caches.cache(Caches.accounts).put({ ...a, spec: { ...a.spec, provisioningAdministrator } });
};
const recorded = () => world.store.peek<PlatformConfig>(Kinds.PlatformConfig, 'default')?.status?.accountAdministrators;

beforeEach(() => {
  world = new FakeWorld();
  reconciler = new AccountReconciler(world.deps, {});
  world.put(Kinds.PlatformConfig, Caches.platformConfigs, {
    apiVersion: 'miniapps.dev/v1alpha1',
    kind: 'PlatformConfig',
    metadata: { name: 'default', uid: 'uid-pc', generation: 1 },
    spec: {},
    status: { accountAdministrators: ['ada@acme.example', 'bob@acme.example'] },
  } as PlatformConfig);
  account('ada', true);
  account('bob', true);
});

describe('status.accountAdministrators', () => {
  it('is written again when an administrator comes back while the cache still shows the list before their removal', async () => {
    change('bob', false);
    await reconciler.reconcile('bob');
    expect(recorded()).toEqual(['ada@acme.example']);
    // The PlatformConfig's cache is behind: it still shows bob. Bob is made an administrator again.
    change('bob', true);
    await reconciler.reconcile('bob');
    expect(recorded()).toEqual(['ada@acme.example', 'bob@acme.example']);
  });
});
