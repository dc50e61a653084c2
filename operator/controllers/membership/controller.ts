import { isDeepStrictEqual } from 'node:util';
import { MembershipConditions } from '../../api/membership/names.ts';
import { CREATED_BY_ANNOTATION } from '../../api/constants.ts';
import type { Membership, MembershipPhase, MembershipStatus } from '../../api/membership/schema.ts';
import type { MiniApp } from '../../api/miniapp/schema.ts';
import type { Organization } from '../../api/organization/schema.ts';
import type { SuperApp } from '../../api/superapp/schema.ts';
import { needsApply } from '../../runtime/apply.ts';
import type { CacheReader } from '../../runtime/cache.ts';
import { keyOf } from '../../runtime/cache.ts';
import { rfc3339 } from '../../runtime/clock.ts';
import { STALLED } from '../../runtime/conditions.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';
import type { ControllerSpec, ReconcileContext, ReconcileResult, Reconciler } from '../../runtime/controller.ts';
import { errorMessage } from '../../runtime/errors.ts';
import type { ObjectBody } from '../../runtime/kube/client.ts';
import { Resources } from '../../runtime/kube/resource.ts';
import { Caches, Index, emailKey } from '../../domain/caches.ts';
import type { ControllerDeps } from '../deps.ts';
import { memberAccess, organizationClusterName, roleInModel } from '../../domain/rbac.ts';
import type { NamespaceReach } from '../../domain/rbac.ts';
import { userName } from '../../domain/rbac-types.ts';
import type { PlatformSettings } from '../../domain/settings.ts';
import { Kinds } from '../../api/registry.ts';
import {
  FIRST_INVITATIONS_PER_ORGANIZATION,
  FIRST_INVITATIONS_PER_RECIPIENT,
  MembershipReasons,
  RESEND_LIMIT_PER_ORG,
  RESEND_MIN_INTERVAL_MS,
  RESEND_WINDOW_MS,
  admitFirstInvitation,
  firstInvitationHeldCondition,
  firstInvitationMembership,
  firstInvitationRecipient,
  membershipConditions,
  nextCheck,
  phaseOf,
  planInvitation,
  resendRequested,
} from './logic.ts';
import type { AccessState, FirstInvitationHold, Invitation, InvitationPlan, ResendHold, ResendPolicy } from './logic.ts';
import type { InvitationMailer } from './mail.ts';
import { writeStatus } from '../../runtime/status.ts';

/** Field managers: each writes its own part of status, so none can erase another's. */
export const INVITATION_FIELD_MANAGER = 'miniapps-operator-invitations';

export interface MembershipOptions {
  /** Sends invitation emails; undefined when no SMTP server is configured. */
  mailer?: InvitationMailer;
  /** A resend asked for through the annotation goes out no sooner than this after the previous invitation (--invitation-resend-interval). */
  invitationResendIntervalMs?: number;
  /** Resends asked for through the annotation per organization per hour (--invitation-resend-limit). */
  invitationResendLimit?: number;
  /** Told of each email tried: sent, or failed with the reason it is reported under (miniapps_invitation_emails_total). */
  onEmail?: (result: 'sent' | 'failed', reason: string) => void;
  /** First emails of Memberships to one address per organization per rolling day (--invitation-recipient-limit). */
  invitationRecipientLimit?: number;
  /** First emails of Memberships per organization per rolling day (--invitation-organization-limit). */
  invitationOrganizationLimit?: number;
  /**
   * The key of the recipients' identifiers in Organization status.firstInvitations (an
   * HMAC of organization and email: the address is never written). The invitation signing
   * key: required (a fixed key would let anyone test an address against the record).
   */
  recipientKey: Buffer;
}

/** What issuing decided in the organization's turn (or outside it), before any email. */
type Decision =
  | { kind: 'gone' }
  | { kind: 'stale' }
  | { kind: 'planned'; plan: InvitationPlan }
  | { kind: 'held'; plan: InvitationPlan; membership: Membership; firstHold: FirstInvitationHold }
  | { kind: 'recorded'; plan: InvitationPlan & { kind: 'send' }; membership: Membership };

/** What issuing decided and did in one reconcile. */
export type Issued =
  /** The Membership is gone. */
  | { kind: 'gone' }
  /** Look again after `afterMs`: the cache is behind the API server, or a send changed what the plan saw. */
  | { kind: 'again'; afterMs: number }
  | {
      kind: 'done';
      /** The Membership as last written (or read). */
      membership: Membership;
      /** Why the email did not go out (InvitationSent False), when it did not. */
      problem?: ConditionInput;
      /** A requested resend that waits (InvitationSent False, ResendRateLimited). */
      hold?: ResendHold;
      /** The first email waits for the first-email limits. */
      firstHold?: FirstInvitationHold;
    };

/** What access found and did in one reconcile: the phase, and whether the person can act. */
export interface Access extends AccessState {
  phase: MembershipPhase;
}

/** How soon a reconcile acting on a plan made from a cache that is behind looks again (the informer catches up in milliseconds). */
const STALE_CACHE_RETRY_MS = 250;

/**
 * The Membership controller does two things, as cert-manager's issuing and readiness
 * controllers do, in two reconcile functions with their own conditions:
 * - issuing (`issue`): the invitation email, its resends and their limits, InvitationSent;
 * - access (`access`): the member's Role and RoleBinding, AccessGranted, and Ready only
 *   once the person can act (the Organization's bindings name them too).
 * One reconcile runs both and writes the three conditions once (the kind's whole set).
 *
 * What this process keeps in memory, and why it cannot be in the API server:
 * - `accepted`: Message-IDs the mail server accepted whose "sent" record failed: the record
 *   is the write that failed, so memory is the only place left (a restart may repeat that one
 *   identical message, which mailbox providers collapse by Message-ID);
 * - `resent`: requested resends this process recorded in status (the truth, which survives a
 *   restart) until its cache shows them: two reconciles of one organization in a row must
 *   not both see the last free place of the organization's limit;
 * - `turns`: the lock that decides one organization's requested resends and first-email
 *   admissions one at a time (only the leader reconciles).
 * The Warning of a held resend is decided from the conditions in status (one when
 * InvitationSent turns ResendRateLimited), and a first email's admission from the
 * Organization's record (status.firstInvitations names the Membership): both outlive the process.
 */
export class MembershipReconciler implements Reconciler {
  private readonly deps: ControllerDeps;
  private readonly opts: MembershipOptions;
  private readonly members: CacheReader<Membership>;
  private readonly bindings: CacheReader<ObjectBody>;
  private readonly roles: CacheReader<ObjectBody>;
  private readonly clusterBindings: CacheReader<ObjectBody>;
  private readonly superApps: CacheReader<SuperApp>;
  private readonly miniApps: CacheReader<MiniApp>;
  /** Message-IDs the mail server accepted whose "sent" is not recorded yet: never sent again. */
  private readonly accepted = new Set<string>();
  /** Requested resends this process recorded, by Membership uid, until the cache has them. */
  private readonly resent = new Map<string, readonly string[]>();
  /** Decisions on requested resends and first emails, one organization (namespace) at a time. */
  private readonly turns = new Map<string, Promise<unknown>>();
  private readonly recipientKey: Buffer;

  constructor(deps: ControllerDeps, opts: MembershipOptions) {
    this.deps = deps;
    this.opts = opts;
    this.members = deps.caches.cache(Caches.memberships);
    this.bindings = deps.caches.cache(Caches.ownedRoleBindings);
    this.roles = deps.caches.cache(Caches.ownedRoles);
    this.clusterBindings = deps.caches.cache(Caches.ownedClusterRoleBindings);
    this.superApps = deps.caches.cache(Caches.superApps);
    this.miniApps = deps.caches.cache(Caches.miniApps);
    this.recipientKey = opts.recipientKey;
  }

  async reconcile(key: string, ctx?: ReconcileContext): Promise<ReconcileResult | void> {
    const cached = this.members.get(key);
    if (!cached || cached.metadata.deletionTimestamp) return; // the garbage collector removes the RoleBinding with it
    const org = this.deps.domain.organizationOf(cached.metadata.namespace!);
    const settings = this.deps.domain.settings();
    const blocked = this.blocked(cached, org, settings);
    if (blocked) {
      await this.revokeAccess(cached);
      await this.writeStatus(cached, phaseOf(cached, this.deps.clock.now()), [
        { ...blocked, type: MembershipConditions.AccessGranted },
        { ...blocked, type: MembershipConditions.Ready },
      ]);
      return;
    }
    const now = this.deps.clock.now();
    const issued = await this.issue(cached, org!, settings, now, ctx?.signal);
    if (issued.kind === 'gone') return;
    if (issued.kind === 'again') return { requeueAfterMs: issued.afterMs };
    const m = issued.membership;
    const access = await this.access(m, org!, settings, now);
    const problem = issued.problem ?? (issued.firstHold ? firstInvitationHeldCondition(issued.firstHold) : undefined);
    await this.writeStatus(m, access.phase, membershipConditions(m, access.phase, access, problem, issued.hold));
    if (problem?.reason === MembershipReasons.SMTPUnavailable) throw new Error(problem.message);
    const after = nextCheck(m, now, issued.hold);
    const held = issued.firstHold ? issued.firstHold.until.getTime() - now.getTime() + 1000 : undefined;
    const next = Math.min(after ?? Infinity, held ?? Infinity);
    return Number.isFinite(next) ? { requeueAfterMs: next } : undefined;
  }

  /**
   * Issuing: plans the invitation email once (planInvitation), on the cached Membership,
   * then acts on the plan. A requested resend is planned and recorded in its organization's
   * turn, where the organization's resends are counted, so two at once cannot both take its
   * last free place. Before acting, the Membership is read from the API server: a cache
   * that is behind (another version) means the plan was made on an old object, and the
   * reconcile looks again shortly instead of planning a second time.
   *
   * Acting sends the due email: one attempt, one Message-ID, one email. The attempt
   * (number, Message-ID, link expiry) is recorded in status before anything is sent
   * (compare-and-swap on the version read); the email goes out; then "sent" is recorded. A
   * crash before the server accepted the message sends the same attempt again, with the
   * same Message-ID and link. SMTP has no two-phase commit, so a crash in the instant
   * between the server's acceptance and the record can repeat that identical message
   * (mailbox providers collapse the same Message-ID); the other order would instead lose an
   * invitation while status claims it was sent, which is worse. An email the server accepted
   * is remembered in this process, so a failed status write never sends it again. The email
   * honours `signal` (aborted when this process loses the lease): no dot, no delivery, no
   * record; the next leader sends the recorded attempt.
   */
  async issue(cached: Membership, org: Organization, settings: PlatformSettings, now: Date, signal?: AbortSignal): Promise<Issued> {
    const decide = async (): Promise<Decision> => {
      const plan = planInvitation(cached, now, settings.invitationTTLMs, this.resendPolicy(cached, now));
      if (plan.kind !== 'send' || !this.opts.mailer) return { kind: 'planned', plan };
      const fresh = await this.deps.store.get<Membership>(Kinds.Membership, cached.metadata.name, cached.metadata.namespace);
      if (!fresh) return { kind: 'gone' };
      if (fresh.metadata.resourceVersion !== cached.metadata.resourceVersion) return { kind: 'stale' };
      // A first email (no attempt recorded yet; never a requested resend, which needs one: no turn within the turn).
      if (!fresh.status?.invitation) {
        const firstHold = await this.admitFirst(fresh, org, now);
        if (firstHold) return { kind: 'held', plan, membership: fresh, firstHold };
      }
      const recorded = isDeepStrictEqual(fresh.status?.invitation, plan.invitation) ? fresh : await this.writeInvitation(fresh, plan.invitation);
      if (plan.requested) this.resent.set(recorded.metadata.uid!, plan.invitation.recentResends ?? []);
      return { kind: 'recorded', plan, membership: recorded };
    };
    const decision = resendRequested(cached) ? await this.inTurn(cached.metadata.namespace!, decide) : await decide();
    switch (decision.kind) {
      case 'gone':
        return { kind: 'gone' };
      case 'stale':
        return { kind: 'again', afterMs: STALE_CACHE_RETRY_MS };
      case 'held':
        return { kind: 'done', membership: decision.membership, firstHold: decision.firstHold, hold: decision.plan.hold };
      case 'planned': {
        const { plan } = decision;
        if (plan.kind !== 'send') return { kind: 'done', membership: cached, hold: plan.hold };
        return {
          kind: 'done',
          membership: cached,
          hold: plan.hold,
          problem: {
            type: MembershipConditions.InvitationSent,
            status: 'False',
            reason: MembershipReasons.SMTPNotConfigured,
            message: 'No SMTP server is configured; start the operator with --smtp-host (see --help) so invitations can be sent',
          },
        };
      }
      case 'recorded':
        return this.send(decision.membership, decision.plan, org, settings, now, signal);
    }
  }

  /** Sends the attempt `plan` recorded on `m`, then records it sent. */
  private async send(m: Membership, plan: InvitationPlan & { kind: 'send' }, org: Organization, settings: PlatformSettings, now: Date, signal: AbortSignal | undefined): Promise<Issued> {
    const mailer = this.opts.mailer!;
    const messageId = plan.invitation.messageId!;
    if (!this.accepted.has(messageId)) {
      try {
        const result = await mailer.send({ membership: m, organization: org, invitation: plan.invitation, notification: plan.notification, userPrefix: settings.userPrefix }, signal);
        if (!result.accepted) throw new MailUnconfirmed(result.response);
      } catch (err) {
        const problem =
          err instanceof MailUnconfirmed
            ? { reason: MembershipReasons.SMTPUnavailable, message: `The mail server did not confirm the email to ${m.spec.email} (${err.message}); retrying with backoff` }
            : mailer.classify(err);
        this.opts.onEmail?.('failed', problem?.reason ?? 'Error');
        if (!problem) throw new Error(`Invitation for ${m.spec.email} not sent: ${errorMessage(err)}`, { cause: err });
        this.deps.recorder.event(m, 'Warning', problem.reason, problem.message);
        return { kind: 'done', membership: m, problem: { type: MembershipConditions.InvitationSent, status: 'False', ...problem }, hold: plan.hold };
      }
      this.accepted.add(messageId);
      this.opts.onEmail?.('sent', '');
    }
    const sent = await this.writeInvitation(m, { ...plan.invitation, sentAt: rfc3339(now) });
    this.accepted.delete(messageId);
    const attempt = plan.invitation.attempts;
    this.deps.recorder.event(
      sent,
      'Normal',
      plan.notification ? MembershipReasons.NotificationSent : MembershipReasons.InvitationSent,
      plan.notification ? `Access notification sent to ${sent.spec.email}` : `Invitation ${attempt} sent to ${sent.spec.email}; it expires at ${plan.invitation.expiresAt}`,
    );
    // A requested resend held while a recorded attempt went out now waits from this send: what the plan saw changed, so the next reconcile plans again.
    if (plan.hold) return { kind: 'again', afterMs: 1 };
    return { kind: 'done', membership: sent };
  }

  /**
   * Access: binds the member's Role while they are Active and removes it otherwise, and
   * finds the Organization's bindings that do not name them yet (Ready waits for those:
   * the Organization controller writes them).
   */
  async access(m: Membership, org: Organization, settings: PlatformSettings, now: Date): Promise<Access> {
    const namespace = m.metadata.namespace!;
    const phase = phaseOf(m, now);
    const access = memberAccess(m, org, namespace, settings, this.reach(m, namespace, settings));
    const bound = phase === 'Active';
    if (bound) await this.grantAccess(access);
    else await this.revokeAccess(m);
    const subject = access.roleBinding.subjects?.[0]?.name ?? m.spec.email;
    // The access the person has also comes from the Organization's ClusterRoleBindings (reading it; an administrator's to change it), written by the Organization controller.
    const organizationBindingsMissing = bound ? this.organizationBindingsMissing(org, m, subject) : [];
    return { phase, bound, subject, namespace, roleName: access.roleBinding.roleRef.name, organizationBindingsMissing };
  }

  /**
   * The first email of a Membership (its invitation or notification; no attempt recorded
   * yet) goes out only within the first-email limits, counted in the Organization's
   * status.firstInvitations, which only the operator writes and which outlives the
   * Membership: deleting and re-creating one starts no new count. Decided and recorded
   * (before anything is sent) in the organization's turn, on a fresh read of the
   * Organization; a Membership the record names already (admitted, its attempt not
   * recorded yet) is counted once. Returns the hold when it must wait.
   */
  private admitFirst(m: Membership, org: Organization, now: Date): Promise<FirstInvitationHold | undefined> {
    const uid = m.metadata.uid!;
    return this.inTurn(m.metadata.namespace!, async () => {
      const fresh = await this.deps.store.get<Organization>(Kinds.Organization, org.metadata.name);
      if (!fresh) throw new Error(`Organization ${org.metadata.name} is gone; the first email of ${m.metadata.namespace}/${m.metadata.name} waits`);
      const limits = {
        perRecipient: this.opts.invitationRecipientLimit ?? FIRST_INVITATIONS_PER_RECIPIENT,
        perOrganization: this.opts.invitationOrganizationLimit ?? FIRST_INVITATIONS_PER_ORGANIZATION,
      };
      const decision = admitFirstInvitation(fresh.status?.firstInvitations, this.recipientId(org.metadata.name, m.spec.email), now, limits, firstInvitationMembership(this.recipientKey, uid));
      if ('hold' in decision) return decision.hold;
      // On the version read: a record another writer changed meanwhile is read again (the reconcile fails and is retried).
      // Unchanged (this Membership admitted already, its attempt not recorded yet): nothing to write.
      if (isDeepStrictEqual(decision.record, fresh.status?.firstInvitations)) return undefined;
      const version = fresh.metadata.resourceVersion;
      await this.deps.store.applyStatus(Kinds.Organization, fresh, { firstInvitations: decision.record }, { fieldManager: INVITATION_FIELD_MANAGER, resourceVersion: version });
      return undefined;
    });
  }

  private recipientId(organization: string, email: string): string {
    return firstInvitationRecipient(this.recipientKey, organization, email);
  }

  /**
   * The resend limits and the organization's requested resends of the last hour: the
   * recentResends of its other Memberships in the cache, with those this process
   * recorded that the cache may not show yet. Persisted, so they hold across restarts
   * and a new leader.
   */
  private resendPolicy(m: Membership, now: Date): ResendPolicy {
    const since = now.getTime() - RESEND_WINDOW_MS;
    for (const [uid, times] of this.resent) if (!times.some((t) => Date.parse(t) > since)) this.resent.delete(uid);
    const organizationResends: string[] = [];
    for (const other of this.members.byIndex(Index.namespace, m.metadata.namespace!)) {
      if (other.metadata.uid === m.metadata.uid) continue;
      organizationResends.push(...new Set([...(other.status?.invitation?.recentResends ?? []), ...(this.resent.get(other.metadata.uid!) ?? [])]));
    }
    return {
      intervalMs: this.opts.invitationResendIntervalMs ?? RESEND_MIN_INTERVAL_MS,
      limitPerOrganization: this.opts.invitationResendLimit ?? RESEND_LIMIT_PER_ORG,
      organizationResends,
    };
  }

  /** Runs `fn` after every earlier call for the same key has finished. */
  private async inTurn<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const result = (this.turns.get(key) ?? Promise.resolve()).then(fn);
    const turn = result.catch(() => undefined);
    this.turns.set(key, turn);
    try {
      return await result;
    } finally {
      if (this.turns.get(key) === turn) this.turns.delete(key);
    }
  }

  /**
   * What the member's Role needs beyond the Membership: the apps of the namespace they
   * created (their user name in miniapps.dev/created-by, which the API server accepts only
   * from the creator) and the catalog ConfigMaps of its super apps.
   */
  private reach(m: Membership, namespace: string, settings: PlatformSettings): NamespaceReach {
    const me = userName(settings.userPrefix, m.spec.email);
    const createdBy = (o: SuperApp | MiniApp) => o.metadata.annotations?.[CREATED_BY_ANNOTATION] === me;
    const superApps = this.superApps.byIndex(Index.namespace, namespace);
    return {
      created: [
        ...superApps.filter(createdBy).map((a) => ({ kind: 'SuperApp' as const, name: a.metadata.name })),
        ...this.miniApps
          .byIndex(Index.namespace, namespace)
          .filter(createdBy)
          .map((a) => ({ kind: 'MiniApp' as const, name: a.metadata.name })),
      ],
      // Only the names the operator recorded in the super app's status (which only it writes) as the ConfigMaps it published:
      // never names derived from what a super app's managers write (spec.versions), which could be made to name another ConfigMap.
      catalogs: superApps.map((a) => ({ superApp: a.metadata.name, configMaps: publishedConfigMaps(a) })),
    };
  }

  /** Why this membership can grant nothing at all, if it cannot. */
  private blocked(m: Membership, org: Organization | undefined, settings: PlatformSettings): ConditionInput | undefined {
    if (!org) {
      return {
        type: MembershipConditions.Ready,
        status: 'False',
        reason: MembershipReasons.OrganizationNotFound,
        message: `Namespace ${m.metadata.namespace} belongs to no Organization; create Memberships in an organization's namespace`,
      };
    }
    if (!roleInModel(m.spec.role, settings.organizationModel)) {
      return {
        type: MembershipConditions.Ready,
        status: 'False',
        reason: MembershipReasons.RoleNotInModel,
        message:
          `Role ${m.spec.role} is not a role of the platform's organization model ${settings.organizationModel} (PlatformConfig spec.organizationModel): ` +
          (settings.organizationModel === 'AppCenter'
            ? 'use OrganizationAdministrator, Collaborator or Member'
            : 'use OrganizationAdministrator, SuperAppAdministrator, MiniAppDeveloper or MiniAppReviewer'),
      };
    }
    const sameEmail = this.members.byIndex(Index.email, emailKey(m.metadata.namespace!, m.spec.email));
    const first = sameEmail.sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || a.metadata.name.localeCompare(b.metadata.name))[0];
    if (first && first.metadata.name !== m.metadata.name) {
      return {
        type: MembershipConditions.Ready,
        status: 'False',
        reason: MembershipReasons.DuplicateEmail,
        message: `${m.spec.email} already has Membership ${first.metadata.name} in this organization; change that one and delete this one`,
      };
    }
    return undefined;
  }

  /** Compare-and-swap of status.invitation under its own field manager. */
  private async writeInvitation(m: Membership, invitation: Invitation): Promise<Membership> {
    const written = await this.deps.store.applyStatus(Kinds.Membership, m, { invitation }, { fieldManager: INVITATION_FIELD_MANAGER, resourceVersion: m.metadata.resourceVersion });
    return written ?? m;
  }

  /** Binds the member's own Role (its roleRef never changes; a new role or apps limit only rewrites the rules). */
  private async grantAccess(access: ReturnType<typeof memberAccess>): Promise<void> {
    const { name, namespace } = access.role.metadata as { name: string; namespace: string };
    if (needsApply(this.roles.getByName(name, namespace), access.role, ['rules'])) await this.deps.store.apply(Resources.Role, access.role);
    if (needsApply(this.bindings.getByName(name, namespace) as ObjectBody | undefined, access.roleBinding, ['roleRef', 'subjects'])) {
      await this.deps.store.apply(Resources.RoleBinding, access.roleBinding);
    }
  }

  /** The Organization's ClusterRoleBindings `m` needs that do not name `subject` (in the cache). */
  private organizationBindingsMissing(org: Organization, m: Membership, subject: string): string[] {
    const needed = [organizationClusterName(org.metadata.name, 'member'), ...(m.spec.role === 'OrganizationAdministrator' ? [organizationClusterName(org.metadata.name, 'administrator')] : [])];
    return needed.filter((name) => !(this.clusterBindings.getByName(name)?.subjects as { kind: string; name: string }[] | undefined)?.some((s) => s.kind === 'User' && s.name === subject));
  }

  /** Removes the RoleBinding (and per-member Role) this Membership owns, if any. */
  private async revokeAccess(m: Membership): Promise<void> {
    for (const rb of this.bindings.byIndex(Index.owner, m.metadata.uid!)) {
      await this.deps.store.delete(Resources.RoleBinding, rb.metadata.name!, rb.metadata.namespace, { uid: rb.metadata.uid });
      await this.deps.store.delete(Resources.Role, rb.metadata.name!, rb.metadata.namespace);
    }
  }

  /** Writes phase and the whole condition set (a type no longer reported is removed), Stalled when retrying cannot help. */
  private async writeStatus(m: Membership, phase: MembershipStatus['phase'], conditions: ConditionInput[]): Promise<void> {
    const ready = conditions.find((c) => c.type === MembershipConditions.Ready);
    const all = ready && ready.status === 'False' && STALLED_REASONS.has(ready.reason) ? [...conditions, { ...ready, type: STALLED, status: 'True' as const }] : conditions;
    // Ready False is reported each time it is written (a pending invitation is no failure); a held resend once, when
    // InvitationSent turns ResendRateLimited (from the conditions in status: a restart repeats no Warning).
    const sent = conditions.find((c) => c.type === MembershipConditions.InvitationSent);
    await writeStatus(this.deps, Kinds.Membership, m, {
      fields: { phase },
      conditions: all,
      warn: ({ before }) => [
        ...(sent?.reason === MembershipReasons.ResendRateLimited && before?.conditions?.find((c) => c.type === MembershipConditions.InvitationSent)?.reason !== MembershipReasons.ResendRateLimited
          ? [sent]
          : []),
        ...(ready?.status === 'False' && ready.reason !== MembershipReasons.InvitationPending ? [ready] : []),
      ],
    });
  }
}

class MailUnconfirmed extends Error {}

/** Ready reasons that retrying cannot fix: the Membership (or another one) must change. */
const STALLED_REASONS = new Set<string>([MembershipReasons.DuplicateEmail, MembershipReasons.RecipientRejected]);

/** The catalog and snapshot ConfigMaps the operator recorded in a super app's status. */
const publishedConfigMaps = (a: SuperApp): string[] =>
  [a.status?.catalog?.configMapName, ...(a.status?.versions ?? []).map((v) => v.configMapName)].filter((n): n is string => typeof n === 'string' && n !== '');

/** Whether an app's creator (miniapps.dev/created-by) changed. */
const appReachChanged = (a: { metadata: { annotations?: Record<string, string> } }, b: { metadata: { annotations?: Record<string, string> } }) =>
  a.metadata.annotations?.[CREATED_BY_ANNOTATION] !== b.metadata.annotations?.[CREATED_BY_ANNOTATION];

export function membershipController(deps: ControllerDeps, opts: MembershipOptions, concurrency?: number): ControllerSpec {
  const reconciler = new MembershipReconciler(deps, opts);
  const members = deps.caches.cache(Caches.memberships);
  const inNamespace = (ns: string | undefined) => (ns ? members.byIndex(Index.namespace, ns).map(keyOf) : []);
  return {
    name: 'membership',
    for: Caches.memberships,
    // Accepting an invitation writes status.acceptedAt (the acceptance page, possibly another replica).
    statusChanged: (a, b) => (a as Membership).status?.acceptedAt !== (b as Membership).status?.acceptedAt,
    owns: [Caches.ownedRoleBindings],
    watches: [
      // An organization appearing, going, or having its namespace recorded concerns its memberships (not its member counts).
      {
        cache: Caches.organizations,
        map: (o) => inNamespace((o as Organization).status?.namespace),
        changed: (a, b) => (a as Organization).status?.namespace !== (b as Organization).status?.namespace || !!b.metadata.deletionTimestamp !== !!a.metadata.deletionTimestamp,
      },
      // The Organization's bindings naming (or no longer naming) its members: whether an Active member is Ready.
      {
        cache: Caches.ownedClusterRoleBindings,
        map: (b) => {
          const owner = b.metadata.ownerReferences?.find((r) => r.kind === 'Organization' && r.apiVersion.startsWith('miniapps.dev/'));
          return owner ? inNamespace(deps.caches.cache(Caches.organizations).getByName(owner.name)?.status?.namespace) : [];
        },
        changed: (a, b) => !isDeepStrictEqual((a as ObjectBody).subjects, (b as ObjectBody).subjects),
        coalesceMs: 200,
      },
      // A super app or mini app appearing, going, or with another creator or published ConfigMaps: its members' Roles (the apps they created, the catalogs they read).
      {
        cache: Caches.superApps,
        map: (o) => inNamespace(o.metadata.namespace),
        changed: (a, b) => appReachChanged(a, b) || !isDeepStrictEqual(publishedConfigMaps(a as SuperApp), publishedConfigMaps(b as SuperApp)),
      },
      // Mini apps matter only through who created them: one without miniapps.dev/created-by (before or after a change) concerns no Role.
      { cache: Caches.miniApps, map: (o) => (o.metadata.annotations?.[CREATED_BY_ANNOTATION] !== undefined ? inNamespace(o.metadata.namespace) : []), changed: appReachChanged },
      // userPrefix, invitationTTL and organizationModel concern every membership.
      { cache: Caches.platformConfigs, map: () => members.list().map(keyOf), changed: (a, b) => a.metadata.generation !== b.metadata.generation },
    ],
    reconciler,
    concurrency,
  };
}
