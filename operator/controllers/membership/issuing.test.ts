// The Membership controller's two reconcile functions, each on its own, on the in-memory
// caches and API server: issuing (the invitation email: planned once, recorded, sent, its
// limits) and access (the member's Role and RoleBinding), with their own conditions.
import { beforeEach, describe, expect, it } from 'vitest';
import type { Membership } from '../../api/membership/schema.ts';
import type { Organization } from '../../api/organization/schema.ts';
import { Kinds } from '../../api/registry.ts';
import { Caches } from '../../domain/caches.ts';
import { Resources } from '../../runtime/kube/resource.ts';
import { FakeWorld } from '../testing.ts';
import { MembershipReconciler } from './controller.ts';
import { accessGrantedCondition, invitationSentCondition } from './logic.ts';
import type { InvitationMailer, InvitationRequest } from './mail.ts';

const NOW = new Date('2026-12-01T00:00:00Z');
const signal = new AbortController().signal;
let world: FakeWorld;
let org: Organization;
let sent: InvitationRequest[];
const mailer: InvitationMailer = {
  send: async (req) => {
    sent.push(req);
    return { accepted: true, response: '250 OK' };
  },
  classify: () => undefined,
};
const reconciler = (withMailer = true) => new MembershipReconciler(world.deps, { recipientKey: Buffer.alloc(32, 7), ...(withMailer ? { mailer } : {}) });
const settings = () => world.deps.domain.settings();

beforeEach(() => {
  world = new FakeWorld(() => NOW);
  sent = [];
  org = world.put(Kinds.Organization, Caches.organizations, {
    apiVersion: 'miniapps.dev/v1alpha1',
    kind: 'Organization',
    metadata: { name: 'acme', generation: 1 },
    spec: { displayName: 'Acme' },
    status: { namespace: 'org-acme' },
  } as Organization);
});

function member(name: string, extra: { status?: Membership['status']; annotations?: Record<string, string>; suspended?: boolean } = {}): Membership {
  return world.put(Kinds.Membership, Caches.memberships, {
    apiVersion: 'miniapps.dev/v1alpha1',
    kind: 'Membership',
    metadata: { name, namespace: 'org-acme', uid: `uid-${name}`, generation: 1, creationTimestamp: '2026-11-30T00:00:00Z', annotations: extra.annotations },
    spec: { email: `${name}@acme.example`, role: 'MiniAppDeveloper', ...(extra.suspended ? { suspended: true } : {}) },
    ...(extra.status ? { status: extra.status } : {}),
  } as Membership);
}

const stored = (name: string) => world.store.peek<Membership>(Kinds.Membership, name, 'org-acme')!;
/** What the informer does after a write: the cache shows the API server's object. */
const informerCatchesUp = (name: string) => world.caches.cache(Caches.memberships).put(stored(name));

describe('issuing: the invitation email, planned once', () => {
  it('records the attempt, sends one email, records it sent; the Organization counts the first email by Membership', async () => {
    const m = member('ada');
    const issued = await reconciler().issue(m, org, settings(), NOW, signal);
    expect(issued).toMatchObject({ kind: 'done', membership: { status: { invitation: { attempts: 1, sentAt: '2026-12-01T00:00:00Z' } } } });
    expect(sent.map((r) => [r.membership.spec.email, r.invitation.messageId])).toEqual([['ada@acme.example', '<invitation.uid-ada.1@miniapps.dev>']]);
    expect(stored('ada').status?.invitation).toMatchObject({ attempts: 1, messageId: '<invitation.uid-ada.1@miniapps.dev>', sentAt: '2026-12-01T00:00:00Z' });
    expect(world.store.peek<Organization>(Kinds.Organization, 'acme')?.status?.firstInvitations).toHaveLength(1);
    expect(world.events).toContain('Normal InvitationSent');
    expect(invitationSentCondition(stored('ada'), undefined)).toMatchObject({ status: 'True', reason: 'InvitationSent' });

    // Once the cache shows it, nothing is due: no second email.
    informerCatchesUp('ada');
    expect(await reconciler().issue(stored('ada'), org, settings(), NOW, signal)).toMatchObject({ kind: 'done' });
    expect(sent).toHaveLength(1);
  });

  it('acts on no plan made from a cache behind the API server: no email, nothing written, looks again shortly', async () => {
    const cached = member('bob');
    // Another writer recorded something since: the API server is a version ahead of the cache.
    world.store.seed(Kinds.Membership, { ...structuredClone(cached), metadata: { ...cached.metadata, labels: { touched: 'yes' } } });
    const version = stored('bob').metadata.resourceVersion;
    const issued = await reconciler().issue(cached, org, settings(), NOW, signal);
    expect(issued).toEqual({ kind: 'again', afterMs: expect.any(Number) });
    expect(sent).toEqual([]);
    expect(stored('bob').metadata.resourceVersion).toBe(version);
    expect(stored('bob').status?.invitation).toBeUndefined();
  });

  it('without an SMTP server: InvitationSent False SMTPNotConfigured, nothing recorded', async () => {
    const m = member('cy');
    const issued = await reconciler(false).issue(m, org, settings(), NOW, signal);
    expect(issued).toMatchObject({ kind: 'done', problem: { type: 'InvitationSent', status: 'False', reason: 'SMTPNotConfigured' } });
    expect(stored('cy').status?.invitation).toBeUndefined();
  });

  it('a held resend warns once, when InvitationSent turns ResendRateLimited, and not again after a restart', async () => {
    const invitation = { attempts: 1, messageId: '<invitation.uid-dee.1@miniapps.dev>', sentAt: '2026-11-30T23:59:00Z', expiresAt: '2026-12-07T23:59:00Z' };
    member('dee', { status: { invitation }, annotations: { 'miniapps.dev/resend-invitation': 'again' } });
    const first = reconciler();
    await first.reconcile('org-acme/dee', { signal });
    expect(sent).toEqual([]);
    expect(stored('dee').status?.conditions?.find((c) => c.type === 'InvitationSent')).toMatchObject({ status: 'False', reason: 'ResendRateLimited' });
    expect(world.events.filter((e) => e === 'Warning ResendRateLimited')).toHaveLength(1);

    informerCatchesUp('dee');
    await first.reconcile('org-acme/dee', { signal });
    informerCatchesUp('dee');
    await reconciler().reconcile('org-acme/dee', { signal }); // a new process (restart or another leader)
    expect(world.events.filter((e) => e === 'Warning ResendRateLimited')).toHaveLength(1);
    expect(sent).toEqual([]);
  });
});

describe('access: the Role and RoleBinding, AccessGranted', () => {
  it("binds an Active member's Role, and removes it when suspended", async () => {
    const accepted = { invitation: { attempts: 1, messageId: '<m@x>', sentAt: '2026-11-30T00:00:00Z', expiresAt: '2026-12-07T00:00:00Z' }, acceptedAt: '2026-11-30T01:00:00Z' };
    const m = member('eve', { status: accepted });
    const access = await reconciler().access(m, org, settings(), NOW);
    expect(access).toMatchObject({ phase: 'Active', bound: true, namespace: 'org-acme' });
    const binding = world.store.peek(Resources.RoleBinding, access.roleName, 'org-acme');
    expect(binding).toMatchObject({ subjects: [{ kind: 'User', name: access.subject }] });
    expect(accessGrantedCondition(m, access.phase, access)).toMatchObject({ status: 'True', reason: 'RoleBound' });
    world.caches.cache(Caches.ownedRoleBindings).put(binding!);

    const suspended = member('eve', { status: accepted, suspended: true });
    const after = await reconciler().access(suspended, org, settings(), NOW);
    expect(after).toMatchObject({ phase: 'Suspended', bound: false });
    expect(world.store.peek(Resources.RoleBinding, access.roleName, 'org-acme')).toBeUndefined();
    expect(accessGrantedCondition(suspended, after.phase, after)).toMatchObject({ status: 'False', reason: 'Suspended' });
  });

  it('binds nothing for an invited person: AccessGranted False AwaitingAcceptance', async () => {
    const m = member('fay', { status: { invitation: { attempts: 1, messageId: '<m@y>', sentAt: '2026-11-30T00:00:00Z', expiresAt: '2026-12-07T00:00:00Z' } } });
    const access = await reconciler().access(m, org, settings(), NOW);
    expect(access).toMatchObject({ phase: 'Invited', bound: false });
    expect(world.store.peek(Resources.RoleBinding, access.roleName, 'org-acme')).toBeUndefined();
    expect(accessGrantedCondition(m, access.phase, access)).toMatchObject({ status: 'False', reason: 'AwaitingAcceptance' });
  });
});
