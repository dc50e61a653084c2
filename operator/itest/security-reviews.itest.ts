// Security, round two (issue 16), the reviews' part: items 6, 7, 8 and 12, each reproduced
// as the issue tells it on the real control plane, with the people of the attack
// impersonated as the API server authenticates them, and seen refused. Email is counted
// on a real SMTP server on loopback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLATFORM_CONFIG_NAME } from '../api/platformconfig/schema.ts';
import type { Membership } from '../api/membership/schema.ts';
import type { MiniApp } from '../api/miniapp/schema.ts';
import type { MiniAppReview } from '../api/miniappreview/schema.ts';
import type { Organization } from '../api/organization/schema.ts';
import type { ConfigMapObject } from '../runtime/objects.ts';
import { Kinds } from '../api/registry.ts';
import { ApiError } from '../runtime/errors.ts';
import { KubeClient } from '../runtime/kube/client.ts';
import { Resources, resourcePath } from '../runtime/kube/resource.ts';
import type { ResourceType } from '../runtime/kube/resource.ts';
import { accessAllowed } from '../testenv/access.ts';
import { deleteOrganizationsAndWait, testClient } from '../testenv/clients.ts';
import { eventually, testKubeconfig, uniqueName } from '../testenv/index.ts';
import { invitationFlags } from '../testenv/invitations.ts';
import { OperatorProcess } from '../testenv/operator-process.ts';
import { TestSmtpServer } from '../testenv/smtp.ts';

const admin = testClient();
// Its own field manager: the PlatformConfig sets it applies merge with other files' (sets).
const platform = KubeClient.fromKubeconfig(testKubeconfig(), { fieldManager: 'test-security-reviews' });
const opNamespace = uniqueName('op-sec-reviews');
/** Per-organization limit of first emails, low enough to reach in a test (--invitation-organization-limit). */
const ORG_LIMIT = 6;
let smtp: TestSmtpServer;
let operator: OperatorProcess;
const organizations: string[] = [];

const as = (user: string) => ({ as: { user } });
type WithConditions = { metadata: { generation?: number }; status?: { observedGeneration?: number; conditions?: { type: string; status: string; reason: string; message: string }[] } };
const cond = (o: WithConditions | undefined, type: string) => o?.status?.conditions?.find((c) => c.type === type);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mailsTo = (email: string) => smtp.messages.filter((m) => m.to.some((t) => t.toLowerCase() === email.toLowerCase()));
const operatorFlags = () => ['--leader-elect=false', ...invitationFlags(smtp.port)];
const operatorEnv = { MINIAPPS_INVITATION_ORGANIZATION_LIMIT: String(ORG_LIMIT) };

/** A merge patch as `user` (impersonated). */
const patchAs = (user: string, rt: ResourceType, name: string, namespace: string | undefined, body: unknown, subresource?: string) =>
  admin.request('PATCH', resourcePath(rt, { namespace, name, subresource }), { body, contentType: 'application/merge-patch+json', as: { user } });

async function refusal(p: Promise<unknown>): Promise<ApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ApiError)) throw new Error(`expected a refusal, got ${err === undefined ? 'success' : String(err)}`);
  return err;
}

/** An Organization made by a cluster administrator (standing in for a provisioning administrator), once its namespace is Ready. */
async function organization(prefix: string, spec: Partial<Organization['spec']> = {}): Promise<{ name: string; ns: string }> {
  const name = uniqueName(prefix);
  organizations.push(name);
  await admin.create(Kinds.Organization, { metadata: { name }, spec: { displayName: name, ...spec } });
  const ns = await eventually(
    async () => {
      const o = await admin.get<Organization>(Kinds.Organization, name);
      return cond(o, 'NamespaceReady')?.status === 'True' ? o!.status!.namespace! : false;
    },
    { timeoutMs: 30_000, describe: `the namespace of ${name}` },
  );
  return { name, ns };
}

/** A member with access at once (acceptance Automatic), once RBAC lets them `verb resource` there. */
async function member(ns: string, name: string, email: string, role: string, probe: { verb: string; resource: string }): Promise<void> {
  await admin.create(Kinds.Membership, { metadata: { name, namespace: ns }, spec: { email, role, acceptance: 'Automatic' } });
  await eventually(() => accessAllowed(admin, email, { ...probe, namespace: ns }), { timeoutMs: 30_000, describe: `${email} may ${probe.verb} ${probe.resource} in ${ns}` });
}

beforeAll(async () => {
  await platform.apply(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME }, spec: { categories: ['Payments', 'Shopping'], platforms: ['Android', 'iOS'] } });
  smtp = await TestSmtpServer.start();
  operator = await OperatorProcess.start({ kubeconfig: testKubeconfig(), namespace: opNamespace, args: operatorFlags(), env: operatorEnv });
});

afterAll(async () => {
  // Envelope-encrypted mini apps go with their organizations while this operator runs.
  if (operator) await deleteOrganizationsAndWait(admin, organizations).catch(() => undefined);
  await operator?.stop();
  await smtp?.stop();
  // Give up this file's part of the PlatformConfig (server-side apply drops what only it owned): later files set theirs.
  await platform.apply(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME }, spec: {} });
});

/** A bank with a super app `wallet` and a reviewer; a partner that may publish into it, with a developer. */
async function bankAndPartner(prefix: string) {
  const bank = await organization(`${prefix}-bank`, { capabilities: { superApps: true } });
  const partner = await organization(`${prefix}-partner`, { capabilities: { miniApps: true }, miniAppTargets: [{ organization: bank.name, name: 'wallet' }] });
  const reviewer = `reviewer@${bank.name}.example`;
  const developer = `dev@${partner.name}.example`;
  await member(bank.ns, 'reviewer', reviewer, 'MiniAppReviewer', { verb: 'create', resource: 'miniappreviews' });
  await member(partner.ns, 'dev', developer, 'MiniAppDeveloper', { verb: 'create', resource: 'miniapps' });
  await admin.create(Kinds.SuperApp, { metadata: { name: 'wallet', namespace: bank.ns }, spec: { displayName: 'Wallet', platforms: ['Android'] } });
  return { bank, partner, reviewer, developer };
}

const miniAppBody = (ns: string, name: string, superApps: { organization: string; name: string }[], spec: Partial<MiniApp['spec']> = {}) => ({
  metadata: { name, namespace: ns },
  spec: { appName: name.replaceAll('-', '_'), type: 'Numeric' as const, superApps, categories: ['Payments'], versions: [{ name: '1.0.0' }, { name: '1.1.0' }], publishedVersion: '1.0.0', ...spec },
});
/**
 * Waits until the mini app is in the reviewers' queue (AwaitingReview in the wallet), as a
 * reviewer sees it before they review: the webhook judges from the operator's caches, which
 * a MiniApp created a moment ago may not have reached yet.
 */
const awaitingReview = (ns: string, name: string) =>
  eventually(async () => (await admin.get<MiniApp>(Kinds.MiniApp, name, ns))?.status?.superApps?.[0]?.state === 'AwaitingReview', { describe: `${name} AwaitingReview` });
const reviewBody = (ns: string, name: string, mini: { organization: string; name: string }, version: string, decision: 'Approved' | 'Rejected' = 'Approved') => ({
  metadata: { name, namespace: ns },
  spec: { miniApp: mini, superApp: 'wallet', version, decision },
});

describe('security, round two: reviews, invitations, icons', () => {
  it('item 6: an approved mini app that changes what the catalog shows leaves the catalog until a review approves the new content', async () => {
    const { bank, partner, reviewer, developer } = await bankAndPartner('i6');
    type Entry = { name: string; appName: string; type: string; domain?: string; categories: string[]; dataPrivacy: { protection: string } };
    const catalog = async (): Promise<Entry[]> => {
      const cm = await admin.get<ConfigMapObject>(Resources.ConfigMap, 'wallet-catalog', bank.ns);
      return cm?.data?.['catalog.json'] ? (JSON.parse(cm.data['catalog.json']) as { miniApps: Entry[] }).miniApps : [];
    };
    await admin.create(Kinds.MiniApp, miniAppBody(partner.ns, 'pay', [{ organization: bank.name, name: 'wallet' }], { dataPrivacy: { protection: 'EnvelopeEncryption' } }), as(developer));
    await awaitingReview(partner.ns, 'pay');
    await admin.create(Kinds.MiniAppReview, reviewBody(bank.ns, 'pay-1', { organization: partner.name, name: 'pay' }, '1.0.0'), as(reviewer));
    const approved = await eventually(async () => (await catalog()).find((e) => e.name === 'pay') ?? false, { describe: 'pay listed once approved' });
    expect(approved).toMatchObject({ appName: 'pay', type: 'Numeric', categories: ['Payments'], dataPrivacy: { protection: 'EnvelopeEncryption' } });

    // The developer changes everything the reviewer approved, with no new review.
    let shownUnreviewed: Entry | undefined;
    const watching = (async () => {
      for (let i = 0; i < 40 && !shownUnreviewed; i++) {
        shownUnreviewed = (await catalog()).find((e) => e.name === 'pay' && (e.appName !== 'pay' || e.dataPrivacy.protection !== 'EnvelopeEncryption'));
        await sleep(100);
      }
    })();
    await patchAs(developer, Kinds.MiniApp, 'pay', partner.ns, {
      spec: { appName: 'Official_Bank_Login', type: 'Intent', domain: 'credentials', categories: ['Shopping'], dataPrivacy: { protection: 'None' } },
    });
    const waiting = await eventually(
      async () => {
        const m = await admin.get<MiniApp>(Kinds.MiniApp, 'pay', partner.ns);
        return m?.status?.observedGeneration === m?.metadata.generation && m?.status?.superApps?.[0]?.state !== 'Listed' ? m! : false;
      },
      { describe: 'pay no longer Listed' },
    );
    await watching;
    expect(shownUnreviewed, 'the catalog showed content no review approved').toBeUndefined();
    expect(await catalog()).toEqual([]);
    const where = waiting.status!.superApps![0]!;
    expect(where.state).toBe('AwaitingReview');
    for (const field of ['appName', 'type', 'domain', 'categories', 'dataPrivacy']) expect(where.message, field).toContain(field);
    // The reviewer's review says so too: a new review is needed.
    await eventually(
      async () =>
        cond((await admin.get<MiniAppReview>(Kinds.MiniAppReview, 'pay-1', bank.ns)) as WithConditions, 'TargetResolved')?.message.includes('a new review must approve it as it is now') ?? false,
      { describe: 'pay-1 says its approval no longer covers pay' },
    );

    // A review of the content as it is now lists it again, as it is now.
    await admin.create(Kinds.MiniAppReview, reviewBody(bank.ns, 'pay-2', { organization: partner.name, name: 'pay' }, '1.0.0'), as(reviewer));
    const relisted = await eventually(async () => (await catalog()).find((e) => e.name === 'pay') ?? false, { describe: 'pay listed again once the new content is approved' });
    expect(relisted).toMatchObject({ appName: 'Official_Bank_Login', type: 'Intent', domain: 'credentials', categories: ['Shopping'], dataPrivacy: { protection: 'None' } });
    // The approval is tied to what it approved: the reviewer's first review still names the old content.
    const first = await admin.get<MiniAppReview>(Kinds.MiniAppReview, 'pay-1', bank.ns);
    expect((first?.status as { approvedContent?: { appName?: string } } | undefined)?.approvedContent?.appName).toBe('pay');
    // An edit of that first review (a new comment) approves nothing new: its record keeps the content it approved (the review's finding 4).
    await patchAs(reviewer, Kinds.MiniAppReview, 'pay-1', bank.ns, { spec: { comment: 'typo fixed' } });
    type Recorded = MiniAppReview & { status?: { approvedContent?: { appName?: string; observedGeneration?: number } } };
    const edited = await eventually(
      async () => {
        const r = (await admin.get<MiniAppReview>(Kinds.MiniAppReview, 'pay-1', bank.ns)) as Recorded | undefined;
        return r && r.metadata.generation! > 1 && r.status?.approvedContent?.observedGeneration === r.metadata.generation ? r : false;
      },
      { describe: 'pay-1 edited and reconciled' },
    );
    expect(edited.status?.approvedContent?.appName).toBe('pay');
  });

  it('item 7: deleting and re-creating a Membership does not send a new first invitation each time, and the display name stays out of the subject', async () => {
    const phishing = 'URGENT: your bank account is locked, verify at once';
    const org = await organization('i7', { displayName: phishing });
    const orgAdmin = `admin@${org.name}.example`;
    await member(org.ns, 'admin', orgAdmin, 'OrganizationAdministrator', { verb: 'create', resource: 'memberships' });
    const stranger = `stranger@${org.name}.example`;
    const body = { metadata: { name: 'stranger', namespace: org.ns }, spec: { email: stranger, role: 'MiniAppDeveloper' } };
    const get = () => admin.get<Membership>(Kinds.Membership, 'stranger', org.ns);

    // Ten times in a few seconds, as the organization's administrator.
    const start = Date.now();
    for (let i = 0; i < 10; i++) {
      await admin.create(Kinds.Membership, body, as(orgAdmin));
      await eventually(
        async () => {
          const m = await get();
          return (m?.status?.invitation?.sentAt !== undefined || cond(m as WithConditions, 'InvitationSent')?.reason === 'InvitationRateLimited') && !m?.metadata.deletionTimestamp;
        },
        { timeoutMs: 15_000, intervalMs: 50, describe: `attempt ${i + 1}: invited or held` },
      );
      if (i < 9) {
        await admin.delete(Kinds.Membership, 'stranger', org.ns, as(orgAdmin));
        await eventually(async () => (await get()) === undefined, { intervalMs: 50, describe: 'the Membership gone' });
      }
    }
    expect(Date.now() - start).toBeLessThan(60_000);
    await sleep(1500);
    expect(mailsTo(stranger), 'emails the stranger received').toHaveLength(3);
    const held = await get();
    expect(cond(held as WithConditions, 'InvitationSent')).toMatchObject({ status: 'False', reason: 'InvitationRateLimited', message: expect.stringContaining('per recipient') });
    expect(cond(held as WithConditions, 'InvitationSent')?.message).not.toContain(stranger);
    // The count lives in the Organization's status, which outlives the Membership, and names no address.
    const recorded = (await admin.get<Organization>(Kinds.Organization, org.name))!.status!;
    expect(recorded.firstInvitations?.length).toBe(4); // the administrator's notification and the stranger's three
    expect(JSON.stringify(recorded.firstInvitations)).not.toMatch(/stranger|@/);
    // Nor can the organization's administrator wipe the count.
    expect((await refusal(patchAs(orgAdmin, Kinds.Organization, org.name, undefined, { status: { firstInvitations: null } }, 'status'))).status).toBe(403);

    // Not a word of the display name in any subject; the organization is named by its name.
    for (const mail of smtp.messages.filter((m) => m.to.some((t) => t.endsWith(`@${org.name}.example`)))) {
      expect(mail.subject).not.toContain('URGENT');
      expect(mail.subject).toMatch(new RegExp(`^(Invitation to join|You now have access to) ${org.name}$`));
    }

    // The limit outlives the process too: a new operator sends nothing more to the stranger.
    await operator.stop();
    operator = await OperatorProcess.start({ kubeconfig: testKubeconfig(), namespace: opNamespace, args: operatorFlags(), env: operatorEnv });
    await admin.delete(Kinds.Membership, 'stranger', org.ns, as(orgAdmin));
    await eventually(async () => (await get()) === undefined, { describe: 'the Membership gone' });
    await admin.create(Kinds.Membership, body, as(orgAdmin));
    await eventually(async () => cond((await get()) as WithConditions, 'InvitationSent')?.reason === 'InvitationRateLimited', { describe: 'held after the restart' });
    expect(mailsTo(stranger)).toHaveLength(3);

    // Per organization: ORG_LIMIT first emails per window, whoever they go to (the administrator's notification and the stranger's three included).
    const others = ['a', 'b', 'c', 'd'];
    for (const p of others) await admin.create(Kinds.Membership, { metadata: { name: p, namespace: org.ns }, spec: { email: `${p}@${org.name}.example`, role: 'MiniAppDeveloper' } }, as(orgAdmin));
    const settled = await eventually(
      async () => {
        const now = await Promise.all(others.map((p) => admin.get<Membership>(Kinds.Membership, p, org.ns)));
        const sent = now.filter((m) => m?.status?.invitation?.sentAt);
        const limited = now.filter((m) => cond(m as WithConditions, 'InvitationSent')?.reason === 'InvitationRateLimited');
        return sent.length + limited.length === others.length ? { sent, limited } : false;
      },
      { describe: 'every other invitation sent or held' },
    );
    expect(settled.sent).toHaveLength(ORG_LIMIT - 1 - 3);
    for (const m of settled.limited) expect(cond(m as WithConditions, 'InvitationSent')?.message).toContain('per organization');
    await sleep(1000);
    expect(others.map((p) => mailsTo(`${p}@${org.name}.example`).length).reduce((a, b) => a + b)).toBe(ORG_LIMIT - 1 - 3);
  });

  it('item 8: a review gives one answer for a mini app that does not exist and one that is not a target, and lists versions only once the target is established', async () => {
    const { bank, partner, reviewer, developer } = await bankAndPartner('i8');
    // A third organization's mini app that names the wallet, while it may; then it may no longer.
    const outsider = await organization('i8-outsider', { capabilities: { miniApps: true }, miniAppTargets: [{ organization: bank.name, name: 'wallet' }] });
    await admin.create(
      Kinds.MiniApp,
      miniAppBody(outsider.ns, 'hidden', [{ organization: bank.name, name: 'wallet' }], { versions: [{ name: '0.9.0-secret-feature' }], publishedVersion: '0.9.0-secret-feature' }),
    );
    await admin.patch(Kinds.Organization, outsider.name, undefined, { spec: { miniAppTargets: null } });
    await eventually(async () => (await admin.get<MiniApp>(Kinds.MiniApp, 'hidden', outsider.ns))?.status?.superApps?.[0]?.state === 'NotAllowed', { describe: 'hidden NotAllowed in the wallet' });
    // The partner's mini app that names no super app of the bank.
    await admin.create(Kinds.MiniApp, miniAppBody(partner.ns, 'elsewhere', [], { versions: [{ name: '3.1.4-unreleased' }], publishedVersion: '3.1.4-unreleased' }), as(developer));

    const attempt = async (mini: { organization: string; name: string }, version = '1.0.0') =>
      (await refusal(admin.create(Kinds.MiniAppReview, reviewBody(bank.ns, uniqueName('r'), mini, version), as(reviewer)))).message;
    const blank = (message: string, name: string, org: string) => message.replaceAll(`${org}/${name}`, 'X');
    const missing = await attempt({ organization: partner.name, name: 'no-such-app' });
    const notTarget = await attempt({ organization: partner.name, name: 'elsewhere' });
    const notAllowed = await attempt({ organization: outsider.name, name: 'hidden' });
    const noOrganization = await attempt({ organization: 'no-such-organization', name: 'x' });
    expect(blank(notTarget, 'elsewhere', partner.name)).toBe(blank(missing, 'no-such-app', partner.name));
    expect(blank(notAllowed, 'hidden', outsider.name)).toBe(blank(missing, 'no-such-app', partner.name));
    expect(blank(noOrganization, 'x', 'no-such-organization')).toBe(blank(missing, 'no-such-app', partner.name));
    for (const m of [missing, notTarget, notAllowed]) {
      expect(m).not.toMatch(/3\.1\.4|0\.9\.0|spec\.versions|has no version/);
    }
    // Once the target is established, the versions may be named.
    await admin.create(Kinds.MiniApp, miniAppBody(partner.ns, 'pay', [{ organization: bank.name, name: 'wallet' }]), as(developer));
    await awaitingReview(partner.ns, 'pay');
    expect(await attempt({ organization: partner.name, name: 'pay' }, '9.9.9')).toContain('1.0.0, 1.1.0');

    // TargetResolved says the same of a review whose mini app went, and of one whose mini app no longer names the wallet.
    await admin.create(Kinds.MiniApp, miniAppBody(partner.ns, 'gone', [{ organization: bank.name, name: 'wallet' }]), as(developer));
    await awaitingReview(partner.ns, 'gone');
    await admin.create(Kinds.MiniAppReview, reviewBody(bank.ns, 'of-gone', { organization: partner.name, name: 'gone' }, '1.0.0'), as(reviewer));
    await admin.create(Kinds.MiniAppReview, reviewBody(bank.ns, 'of-pay', { organization: partner.name, name: 'pay' }, '1.0.0'), as(reviewer));
    await patchAs(developer, Kinds.MiniApp, 'gone', partner.ns, { metadata: { annotations: { 'miniapps.dev/confirm-delete': 'CONFIRM DELETE' } } });
    await admin.delete(Kinds.MiniApp, 'gone', partner.ns, as(developer));
    await patchAs(developer, Kinds.MiniApp, 'pay', partner.ns, { spec: { superApps: [] } });
    const resolved = async (review: string) =>
      eventually(
        async () => {
          const c = cond((await admin.get<MiniAppReview>(Kinds.MiniAppReview, review, bank.ns)) as WithConditions, 'TargetResolved');
          return c?.status === 'False' ? c : false;
        },
        { describe: `TargetResolved=False on ${review}` },
      );
    const [gone, pay] = await Promise.all([resolved('of-gone'), resolved('of-pay')]);
    expect(pay.reason).toBe(gone.reason);
    expect(blank(pay.message, 'pay', partner.name)).toBe(blank(gone.message, 'gone', partner.name));
    expect(pay.message).not.toMatch(/1\.1\.0|spec\.versions/);
  });

  it('item 12: the icon check tells an organization administrator nothing about a ConfigMap that did not opt in', async () => {
    const org = await organization('i12');
    const orgAdmin = `admin@${org.name}.example`;
    await member(org.ns, 'admin', orgAdmin, 'OrganizationAdministrator', { verb: 'create', resource: 'memberships' });
    await eventually(() => accessAllowed(admin, orgAdmin, { verb: 'update', resource: 'organizations', name: org.name }), { describe: `${orgAdmin} may update Organization ${org.name}` });
    expect(await accessAllowed(admin, orgAdmin, { group: '', verb: 'get', resource: 'configmaps', namespace: org.ns })).toBe(false);
    await admin.create(Resources.ConfigMap, { metadata: { name: 'payroll-settings', namespace: org.ns }, data: { 'db-url': 'postgres://payroll' } });
    const iconOf = async (kind: string, name: string, key: string) => {
      await patchAs(orgAdmin, Kinds.Organization, org.name, undefined, { spec: { icon: { kind, name, key } } });
      const o = await eventually(
        async () => {
          const x = await admin.get<Organization>(Kinds.Organization, org.name);
          return x?.status?.observedGeneration === x?.metadata.generation && cond(x as WithConditions, 'IconValid') ? x! : false;
        },
        { describe: `IconValid about ${kind} ${name}` },
      );
      return cond(o as WithConditions, 'IconValid')!;
    };
    const existing = await iconOf('ConfigMap', 'payroll-settings', 'db-url');
    const noKey = await iconOf('ConfigMap', 'payroll-settings', 'no-such-key');
    const missing = await iconOf('ConfigMap', 'no-such-configmap', 'db-url');
    const blank = (c: { reason: string; message: string }, ...names: string[]) => ({ reason: c.reason, message: names.reduce((m, n) => m.replaceAll(n, 'X'), c.message) });
    expect(existing.status).toBe('False');
    expect(blank(existing, 'payroll-settings')).toEqual(blank(missing, 'no-such-configmap'));
    expect(blank(noKey, 'payroll-settings', 'no-such-key')).toEqual(blank(missing, 'no-such-configmap', 'db-url'));
    expect(existing.message).not.toMatch(/not a PNG|MiB|image is|bytes/i);

    // A ConfigMap that opted in (the label, which only someone who may update it can set) is an icon.
    const gif = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
    await admin.create(Resources.ConfigMap, { metadata: { name: 'brand', namespace: org.ns, labels: { 'miniapps.dev/icon': 'true' } }, binaryData: { 'icon.gif': gif.toString('base64') } });
    expect(await iconOf('ConfigMap', 'brand', 'icon.gif')).toMatchObject({ status: 'True', reason: 'IconValid' });
  });
});
