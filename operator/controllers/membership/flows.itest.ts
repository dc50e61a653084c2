// The people side of the platform, end to end on the real control plane: a
// provisioning administrator, invitations over real SMTP (loopback), the acceptance
// page, and what RBAC then allows each person, checked as the API server checks it
// (impersonation).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLATFORM_CONFIG_NAME } from '../../api/platformconfig/schema.ts';
import type { Membership } from '../../api/membership/schema.ts';
import type { Organization } from '../../api/organization/schema.ts';
import type { PlatformConfig } from '../../api/platformconfig/schema.ts';
import { ApiError } from '../../runtime/errors.ts';
import { testClient } from '../../testenv/clients.ts';
import { eventually, freePort, kubectl, testKubeconfig, uniqueName } from '../../testenv/index.ts';
import { OperatorProcess } from '../../testenv/operator-process.ts';
import { TestSmtpServer } from '../../testenv/smtp.ts';
import { accessAllowed } from '../../testenv/access.ts';
import { acceptByForm, acceptLink, invitationFlags } from '../../testenv/invitations.ts';
import { Kinds } from '../../api/registry.ts';

const admin = testClient();
const PROVISIONER = `provisioner-${uniqueName('p')}@platform.example`;
let smtp: TestSmtpServer;
let operator: OperatorProcess;

const as = (user: string) => ({ as: { user } });
const cond = (o: { status?: { conditions?: { type: string; status: string; reason: string }[] } } | undefined, type: string) => o?.status?.conditions?.find((c) => c.type === type);

async function membership(ns: string, name: string): Promise<Membership> {
  return (await admin.get<Membership>(Kinds.Membership, name, ns))!;
}

async function waitMembership(ns: string, name: string, check: (m: Membership) => boolean, describe: string): Promise<Membership> {
  return eventually(
    async () => {
      const m = await membership(ns, name);
      return m && check(m) ? m : false;
    },
    { timeoutMs: 30_000, describe: `${ns}/${name}: ${describe}` },
  );
}

/** The acceptance link in the newest email to `to`. */
async function linkFor(to: string): Promise<string> {
  return acceptLink(await eventually(() => smtp.messages.filter((m) => m.to.includes(to)).at(-1) ?? false, { describe: `an email to ${to}` }));
}

/** What the API server answers for `user` on `verb resource` in `ns` (SubjectAccessReview). */
const can = (user: string, verb: string, resource: string, namespace: string, name?: string) => accessAllowed(admin, user, { verb, resource, namespace, name });

async function refusal(p: Promise<unknown>): Promise<ApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ApiError)) throw new Error(`expected a refusal, got ${err === undefined ? 'success' : String(err)}`);
  return err;
}

beforeAll(async () => {
  smtp = await TestSmtpServer.start();
  const pc = await admin.get<PlatformConfig>(Kinds.PlatformConfig, PLATFORM_CONFIG_NAME);
  const spec = { ...(pc?.spec ?? {}), provisioningAdministrators: { users: [PROVISIONER] } };
  await admin.apply(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME }, spec });
  operator = await OperatorProcess.start({
    kubeconfig: testKubeconfig(),
    namespace: uniqueName('op-flows'),
    args: invitationFlags(smtp.port, await freePort()),
  });
  // The provisioning ClusterRoleBinding names PROVISIONER once the PlatformConfig converged.
  await eventually(() => can(PROVISIONER, 'create', 'organizations', ''), { describe: 'the provisioning administrator to be bound' });
});

afterAll(async () => {
  await operator?.stop();
  await smtp?.stop();
});

describe('the seed flow', () => {
  const org = uniqueName('minis');
  const ns = `org-${org}`;
  const adminEmail = `admin@${org}.example`;
  const devEmail = `dev@${org}.example`;

  it('a provisioning administrator creates an organization that may create mini apps only; a plain user may not', async () => {
    const body = { metadata: { name: org }, spec: { displayName: 'Minis Inc', capabilities: { miniApps: true, superApps: false } } };
    expect((await refusal(admin.create(Kinds.Organization, body, as(devEmail)))).status).toBe(403);
    await admin.create<Organization>(Kinds.Organization, body, as(PROVISIONER));
    await eventually(async () => cond(await admin.get<Organization>(Kinds.Organization, org), 'Ready')?.status === 'True', { describe: 'the organization Ready' });
    await admin.create(Kinds.Membership, { metadata: { name: 'admin', namespace: ns }, spec: { email: adminEmail, role: 'OrganizationAdministrator', acceptance: 'Automatic' } }, as(PROVISIONER));
    await waitMembership(ns, 'admin', (m) => m.status?.phase === 'Active', 'the administrator Active');
  });

  it('the administrator invites a developer, who gets exactly one email with a link', async () => {
    await admin.create(Kinds.Membership, { metadata: { name: 'dev', namespace: ns }, spec: { email: devEmail, role: 'MiniAppDeveloper' } }, as(adminEmail));
    const m = await waitMembership(ns, 'dev', (x) => cond(x, 'InvitationSent')?.status === 'True', 'the invitation sent');
    expect(m.status?.phase).toBe('Invited');
    expect(m.status?.invitation).toMatchObject({ attempts: 1, messageId: `<invitation.${m.metadata.uid}.1@miniapps.dev>` });
    const mails = smtp.messages.filter((x) => x.to.includes(devEmail));
    expect(mails).toHaveLength(1);
    // The subject names the organization by its name (a DNS label), never its display name (issue 16, item 7).
    expect(mails[0]!.subject).toBe(`Invitation to join ${org}`);
    expect(mails[0]!.text).toContain('Minis Inc');
    expect(mails[0]!.text).toContain('mini app developer');
    expect(JSON.stringify(m.status)).not.toContain(new URL(await linkFor(devEmail)).searchParams.get('token')!);
    expect(await can(devEmail, 'create', 'miniapps', ns)).toBe(false); // not before accepting
  });

  it('the developer accepts through the page and becomes Active; the link then is used up', async () => {
    const link = await linkFor(devEmail);
    const page = await fetch(link);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('mini app developer');
    expect((await acceptByForm(link)).status).toBe(200);
    await waitMembership(ns, 'dev', (m) => m.status?.phase === 'Active' && cond(m, 'AccessGranted')?.status === 'True', 'the developer Active');
    expect((await acceptByForm(link)).status).toBe(409);
    const org1 = await eventually(
      async () => {
        const o = await admin.get<Organization>(Kinds.Organization, org);
        return o?.status?.members?.active === 2 ? o : false;
      },
      { describe: 'two active members counted' },
    );
    expect(org1.status?.members).toEqual({ active: 2, invited: 0, suspended: 0, administrators: 1 });
  });

  it('the developer creates a mini app as themselves, and may not create a super app', async () => {
    await eventually(() => can(devEmail, 'create', 'miniapps', ns), { describe: 'RBAC to allow the developer' });
    await admin.create(Kinds.MiniApp, { metadata: { name: 'quick-pay', namespace: ns }, spec: { appName: 'quick_pay', type: 'Numeric' } }, as(devEmail));
    const denied = await refusal(admin.create(Kinds.SuperApp, { metadata: { name: 'wallet', namespace: ns }, spec: { displayName: 'Wallet' } }, as(devEmail)));
    expect(denied.status).toBe(403);
    // Even an administrator cannot: the organization lacks the capability (the webhook says which).
    const noCapability = await refusal(admin.create(Kinds.SuperApp, { metadata: { name: 'wallet', namespace: ns }, spec: { displayName: 'Wallet' } }, as(adminEmail)));
    expect(noCapability.message).toContain('spec.capabilities.superApps is false');
  });

  it("the administrator changes the developer's role, and RBAC follows", async () => {
    await admin.patch(Kinds.Membership, 'dev', ns, { spec: { role: 'MiniAppReviewer' } });
    await eventually(async () => !(await can(devEmail, 'create', 'miniapps', ns)), { describe: 'the developer to lose create on mini apps' });
    expect(await can(devEmail, 'create', 'miniappreviews', ns)).toBe(true);
    // The developer cannot promote themselves: only administrators change roles (kubectl --as, as the API server sees it).
    const promote = await kubectl(['patch', 'memberships.miniapps.dev', 'dev', '-n', ns, '--type=merge', '-p', '{"spec":{"role":"OrganizationAdministrator"}}'], { as: devEmail, allowFailure: true });
    expect(promote.exitCode).not.toBe(0);
    expect(promote.stderr).toContain('forbidden');
  });

  it('suspending the developer takes every access away at once, and lifting it gives it back', async () => {
    await admin.patch(Kinds.Membership, 'dev', ns, { spec: { suspended: true } });
    await eventually(async () => !(await can(devEmail, 'get', 'miniapps', ns)) && !(await can(devEmail, 'get', 'organizations', '', org)), { timeoutMs: 10_000, describe: 'the access to go' });
    const m = await waitMembership(ns, 'dev', (x) => x.status?.phase === 'Suspended', 'Suspended');
    expect(cond(m, 'AccessGranted')).toMatchObject({ status: 'False', reason: 'Suspended' });
    await admin.patch(Kinds.Membership, 'dev', ns, { spec: { suspended: false } });
    await eventually(() => can(devEmail, 'get', 'miniapps', ns), { timeoutMs: 10_000, describe: 'the access to come back' });
  });

  it('the developer leaves, and their access goes', async () => {
    await admin.delete(Kinds.Membership, 'dev', ns, as(devEmail));
    await eventually(async () => !(await can(devEmail, 'get', 'miniapps', ns)), { timeoutMs: 15_000, describe: 'the access to go' });
  });

  it('the last administrator cannot leave, be demoted or be suspended', async () => {
    const leave = await refusal(admin.delete(Kinds.Membership, 'admin', ns, as(adminEmail)));
    expect(leave.message).toContain('last active OrganizationAdministrator');
    const demote = await refusal(admin.patch(Kinds.Membership, 'admin', ns, { spec: { role: 'MiniAppDeveloper' } }));
    expect(demote.message).toContain('cannot be given another role');
    const suspend = await refusal(admin.patch(Kinds.Membership, 'admin', ns, { spec: { suspended: true } }));
    expect(suspend.message).toContain('cannot be suspended');
  });

  it('deleting the organization needs the confirmation annotation, then removes its namespace', async () => {
    const unconfirmed = await refusal(admin.delete(Kinds.Organization, org));
    expect(unconfirmed.message).toContain('miniapps.dev/confirm-delete');
    await admin.patch(Kinds.Organization, org, undefined, { metadata: { annotations: { 'miniapps.dev/confirm-delete': 'CONFIRM DELETE' } } });
    await admin.delete(Kinds.Organization, org);
    await eventually(async () => (await admin.get(Kinds.Organization, org)) === undefined, { timeoutMs: 60_000, describe: 'the organization and its namespace gone' });
  });
});

describe('bad input', () => {
  const org = uniqueName('bad');
  const ns = `org-${org}`;
  beforeAll(async () => {
    await admin.create(Kinds.Organization, { metadata: { name: org }, spec: { displayName: 'Bad', icon: { kind: 'ConfigMap', name: 'brand', key: 'icon.png' } } });
    await eventually(async () => cond(await admin.get<Organization>(Kinds.Organization, org), 'NamespaceReady')?.status === 'True', { describe: 'the namespace' });
  });

  it.each([
    ['an invalid email', { email: 'not-an-email', role: 'MiniAppDeveloper' }, 422, 'spec.email'],
    ['an unknown role', { email: 'x@bad.example', role: 'Owner' }, 422, 'spec.role'],
  ])('%s is refused by the schema', async (_what, spec, status, field) => {
    const err = await refusal(admin.create(Kinds.Membership, { metadata: { name: uniqueName('m'), namespace: ns }, spec }));
    expect(err.status).toBe(status);
    expect(err.message).toContain(field);
  });

  it('a Membership outside any organization namespace is refused', async () => {
    const err = await refusal(admin.create(Kinds.Membership, { metadata: { name: 'stray', namespace: 'default' }, spec: { email: 'x@bad.example', role: 'MiniAppDeveloper' } }));
    expect(err.message).toContain('belongs to no Organization');
  });

  it('a second Membership for the same email (in another case) is refused', async () => {
    await admin.create(Kinds.Membership, { metadata: { name: 'first', namespace: ns }, spec: { email: 'Same@bad.example', role: 'MiniAppReviewer', acceptance: 'Automatic' } });
    await eventually(() => operator.hasLog('Operator started'));
    const err = await eventually(() => refusal(admin.create(Kinds.Membership, { metadata: { name: 'second', namespace: ns }, spec: { email: 'same@BAD.example', role: 'MiniAppDeveloper' } })), {
      describe: 'the duplicate refused',
    });
    expect(err.message).toContain('already has Membership first');
  });

  it.each([
    ['missing', undefined, 'IconMissing'],
    ['not an image', Buffer.from('just text'), 'IconNotAnImage'],
  ])('an icon that is %s is reported in IconValid', async (_what, bytes, reason) => {
    await admin.delete({ group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true }, 'brand', ns);
    if (bytes)
      await admin.create(
        { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true },
        { metadata: { name: 'brand', namespace: ns, labels: { 'miniapps.dev/icon': 'true' } }, binaryData: { 'icon.png': bytes.toString('base64') } },
      );
    await admin.patch(Kinds.Organization, org, undefined, { metadata: { annotations: { touch: uniqueName('t') } } });
    await eventually(async () => cond(await admin.get<Organization>(Kinds.Organization, org), 'IconValid')?.reason === reason, { describe: `IconValid ${reason}` });
  });

  it('a recipient the mail server refuses is reported, and not retried in a loop', async () => {
    smtp.refuse('nobody@bad.example');
    await admin.create(Kinds.Membership, { metadata: { name: 'nobody', namespace: ns }, spec: { email: 'nobody@bad.example', role: 'MiniAppDeveloper' } });
    const m = await waitMembership(ns, 'nobody', (x) => cond(x, 'InvitationSent')?.reason === 'RecipientRejected', 'RecipientRejected');
    expect(cond(m, 'Ready')?.status).toBe('False');
    expect(smtp.messages.filter((x) => x.to.includes('nobody@bad.example'))).toHaveLength(0);
  });
});
