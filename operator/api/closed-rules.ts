// Rules that hold while the operator is down (issue 18; docs/closed-rules.md). Three of
// the four rules the webhook checks from its caches are also admission policies that the
// API server evaluates on its own, reading the objects they depend on LIVE, as policy
// parameters selected by label (every Organization; every Membership of the request's
// namespace), never a copy the operator keeps: a change made while the operator is down
// (a capability revoked, a partner target removed, a Membership added) counts at once.
//
//   - capabilities: a SuperApp or MiniApp is created only in an organization whose
//     spec.capabilities allows it;
//   - mini app targets: a MiniApp names a super app of another organization only when its
//     organization's spec.miniAppTargets lists it (what the object already had is not
//     refused again, as the webhook does);
//   - one Membership per email (compared in ASCII lowercase) per organization.
//
// The fourth, the last administrator, needs "another active administrator exists": an
// existential over Memberships that a policy cannot state (each parameter is judged on
// its own and all must pass), so it is a webhook that fails closed for exactly the
// requests that could break it (servers/webhook.ts LAST_ADMINISTRATOR_WEBHOOK).
//
// Plain data, no TypeBox: the operator process imports it.

import { API_VERSION, GROUP, KIND_NAMES } from './constants.ts';
import { PolicyNames, lit, policy } from './policies.ts';
import type { PolicyObject } from './policies.ts';

/** The label the operator puts on an organization's namespace, naming the organization. */
const ORGANIZATION_NAMESPACE_LABEL = `${GROUP}/organization`;

/**
 * Capabilities and mini app targets. Every Organization is a parameter (selector `{}`),
 * each judged on its own: only the one whose namespace this is (status.namespace, which
 * only the operator writes, or the namespace's `miniapps.dev/organization` label, which
 * only whoever may label namespaces writes) has a say, and it must allow the request.
 * With no Organization at all there is no capability anywhere: refused.
 *
 * The cost is one small evaluation per Organization for each create of a SuperApp or
 * MiniApp and each MiniApp update that changes spec.superApps (matchConditions; other
 * writes are not judged).
 */
function organizationAppsPolicy(): PolicyObject[] {
  const label = lit(ORGANIZATION_NAMESPACE_LABEL);
  const orgOf = (ref: string) => `${ref}.?organization.orValue(params.metadata.name)`;
  const sameRef = (a: string, b: string) => `${orgOf(a)} == ${orgOf(b)} && ${a}.name == ${b}.name`;
  return policy(PolicyNames.organizationApps, {
    resources: ['superapps', 'miniapps'],
    operations: ['CREATE', 'UPDATE'],
    params: { apiVersion: API_VERSION, kind: KIND_NAMES.Organization.kind, selector: {}, notFound: 'Deny' },
    matchConditions: [
      {
        name: 'creates-or-retargets',
        expression: `request.operation == 'CREATE' || (request.kind.kind == 'MiniApp' && object.spec.?superApps != oldObject.spec.?superApps)`,
      },
    ],
    variables: [
      {
        name: 'ours',
        // `namespace` is a CEL reserved word: index by name.
        expression:
          `params.?status[?'namespace'].orValue('') == request.namespace || ` +
          `(namespaceObject != null && namespaceObject.metadata.?labels[?${label}].orValue('') == params.metadata.name)`,
      },
      { name: 'superApp', expression: `request.kind.kind == 'SuperApp'` },
      {
        name: 'capable',
        expression: `variables.superApp ? params.spec.?capabilities.?superApps.orValue(false) : params.spec.?capabilities.?miniApps.orValue(false)`,
      },
      {
        // Targets of another organization that miniAppTargets does not list, and that the object did not already have.
        name: 'refused',
        expression:
          `variables.superApp ? [] : object.spec.?superApps.orValue([]).filter(t, ` +
          `${orgOf('t')} != params.metadata.name && ` +
          `!params.spec.?miniAppTargets.orValue([]).exists(x, x.organization == ${orgOf('t')} && x.name == t.name) && ` +
          `!(request.operation == 'UPDATE' && oldObject.spec.?superApps.orValue([]).exists(o, ${sameRef('o', 't')})))`,
      },
    ],
    validations: [
      {
        expression: `!variables.ours || request.operation != 'CREATE' || variables.capable`,
        messageExpression:
          `'Organization ' + params.metadata.name + ' may not create ' + (variables.superApp ? 'super apps' : 'mini apps') + ` +
          `' (spec.capabilities.' + (variables.superApp ? 'superApps' : 'miniApps') + ' is false); ask a provisioning administrator to grant it'`,
        reason: 'Forbidden',
      },
      {
        expression: `!variables.ours || variables.refused.size() == 0`,
        messageExpression:
          `'spec.superApps: Organization ' + params.metadata.name + ' may not publish mini apps into super app ' + ` +
          `${orgOf('variables.refused[0]')} + '/' + variables.refused[0].name + ` +
          `': it is another organization\\'s and not in spec.miniAppTargets of Organization ' + params.metadata.name + ` +
          `'; a provisioning administrator can add {organization: ' + ${orgOf('variables.refused[0]')} + ', name: ' + variables.refused[0].name + '} there'`,
        reason: 'Forbidden',
      },
    ],
  });
}

/**
 * One Membership per email per organization: every other Membership of the request's
 * namespace is a parameter (selector `{}`, looked up in the request's namespace), and none
 * may hold the same email in ASCII lowercase. The first Membership of a namespace has no
 * parameter: allowed. Judged when a Membership is created (spec.email is immutable);
 * Memberships already duplicated (made before this policy) stay editable.
 *
 * Like the webhook's cache, the API server's view of the other Memberships lags a write by
 * milliseconds: two creates of one email at the same instant can both pass. The Membership
 * controller then reports the later one DuplicateEmail (Stalled) and binds nothing for it.
 */
function membershipEmailPolicy(): PolicyObject[] {
  return policy(PolicyNames.membershipEmail, {
    resources: ['memberships'],
    // spec.email is immutable (the CRD's rule): only a create brings a new one.
    operations: ['CREATE'],
    params: { apiVersion: API_VERSION, kind: KIND_NAMES.Membership.kind, selector: {}, notFound: 'Allow' },
    validations: [
      {
        expression: `params.metadata.name == object.metadata.name || params.spec.email.lowerAscii() != object.spec.email.lowerAscii()`,
        messageExpression:
          `object.spec.email + ' already has Membership ' + params.metadata.name + ' in namespace ' + request.namespace + ` +
          `' (emails are compared case-insensitively); change that Membership instead'`,
        reason: 'Forbidden',
      },
    ],
  });
}

/** The policies of the rules that hold while the operator is down. */
export function closedRulePolicies(): PolicyObject[] {
  return [...organizationAppsPolicy(), ...membershipEmailPolicy()];
}
