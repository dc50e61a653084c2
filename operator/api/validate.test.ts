import { describe, expect, it } from 'vitest';
import { ALL_KINDS } from './index.ts';
import { API_VERSION } from './common.ts';
import { SolutionManifestSchema } from './solution/schema.ts';
import type { KubeObject } from './common.ts';
import { compileValidator, validate, validateSpec } from './validate.ts';

type Fixture = KubeObject & { spec: Record<string, unknown> };

const namespaced = (kind: string, spec: Record<string, unknown>, namespace = 'org-acme'): Fixture => ({
  apiVersion: API_VERSION,
  kind,
  metadata: { name: 'example', namespace },
  spec,
});
const cluster = (kind: string, name: string, spec: Record<string, unknown>): Fixture => ({
  apiVersion: API_VERSION,
  kind,
  metadata: { name },
  spec,
});

const userGroup = {
  name: 'branch-managers',
  description: 'Branch managers',
  landingPage: { url: 'https://portal.example.com/branch', rank: 1 },
  roles: ['role:loans:approver', 'role:loans:viewer'],
};

/** One valid object per kind, using most of its fields. */
const good: Record<string, Fixture> = {
  PlatformConfig: cluster('PlatformConfig', 'default', {
    provisioningAdministrators: { users: ['ops@example.com'], groups: ['platform-admins'] },
    categories: ['Payments', 'Travel'],
    platforms: ['Android', 'iOS'],
    invitationTTL: '168h',
    namespacePrefix: { organization: 'org-', tenant: 'tenant-' },
    userPrefix: 'oidc:',
    groupPrefix: 'oidc:',
  }),
  Organization: cluster('Organization', 'acme', {
    displayName: 'Acme Bank',
    description: 'A bank',
    capabilities: { superApps: true, miniApps: true },
    miniAppTargets: [{ organization: 'globex', name: 'globex-wallet' }],
    icon: { kind: 'ConfigMap', name: 'branding', key: 'icon.png' },
    namespace: 'acme',
  }),
  Tenant: cluster('Tenant', 'initech', {
    displayName: 'Initech',
    administrators: ['admin@initech.example'],
    stack: 'eu-1',
  }),
  Account: cluster('Account', 'ada', {
    username: 'ada.lovelace',
    email: 'ada@example.com',
    firstName: 'Ada',
    lastName: 'Lovelace',
    provisioningAdministrator: true,
    suspended: false,
  }),
  Membership: namespaced('Membership', {
    email: 'dev@acme.example',
    role: 'MiniAppDeveloper',
    apps: [{ kind: 'MiniApp', name: 'fx-rates' }],
    suspended: false,
    acceptance: 'Automatic',
  }),
  SuperApp: namespaced('SuperApp', {
    displayName: 'Acme Mobile',
    platforms: ['Android'],
    featured: [{ name: 'fx-rates' }, { organization: 'globex', name: 'taxi' }],
    reviewPolicy: 'SameOrganization',
    versions: [{ name: '1.0.0', description: 'Launch' }],
  }),
  MiniApp: namespaced('MiniApp', {
    appName: 'fx_rates_2',
    type: 'Intent',
    domain: 'payments',
    superApps: [{ name: 'acme-mobile' }, { organization: 'globex', name: 'globex-wallet' }],
    categories: ['Payments'],
    locations: ['ZA'],
    versions: [{ name: '1.0.0' }, { name: '1.1.0-rc1' }],
    publishedVersion: '1.0.0',
    dataPrivacy: { protection: 'EnvelopeEncryption' },
  }),
  MiniAppReview: namespaced('MiniAppReview', {
    miniApp: { organization: 'globex', name: 'taxi' },
    superApp: 'acme-mobile',
    version: '1.0.0',
    decision: 'Rejected',
    comment: 'The icon is blurry; upload a 512x512 PNG.',
  }),
  ApiKey: namespaced('ApiKey', {
    owner: 'dev@acme.example',
    description: 'CI',
    ttl: '720h',
    scopes: ['catalog:read'],
    rotation: { period: '168h', gracePeriod: '1h' },
    revoked: false,
  }),
  Solution: namespaced('Solution', {
    solutionId: 'lending',
    version: '2.1.0',
    manifest: { userGroupsRequired: [userGroup], adminUserGroups: [{ name: 'lending-admins', roles: ['role:loans:admin'] }] },
  }),
  AppManifest: namespaced('AppManifest', {
    appId: 'loans-web',
    listingId: 'loans',
    userGroups: [userGroup],
    rolesRequired: ['platform:role:loans:approver'],
  }),
  Subscription: namespaced('Subscription', { solution: { organization: 'acme', name: 'lending' }, version: '2.1.0' }, 'tenant-initech'),
  UserGroup: namespaced('UserGroup', { description: 'Tellers', landingPage: { url: '/tellers', rank: 2 }, roles: ['role:loans:viewer'] }, 'tenant-initech'),
  User: namespaced(
    'User',
    {
      userCode: 'E1001',
      firstName: 'Peter',
      lastName: 'Gibbons',
      email: 'peter@initech.example',
      mobiles: ['+27 82 555 0100'],
      groups: ['branch-managers'],
      designation: 'Engineer',
      workLocations: ['Austin'],
      teams: ['TPS'],
      identification: { idType: 'passport', idNum: 'ID-123' },
      userType: 'Internal',
      department: 'Engineering',
      employmentType: 'Permanent',
    },
    'tenant-initech',
  ),
};

/** A copy of the kind's good fixture with `patch` applied to its spec (undefined deletes a field). */
function withSpec(kind: string, patch: Record<string, unknown>): Fixture {
  const object = structuredClone(good[kind]!);
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) delete object.spec[key];
    else object.spec[key] = value;
  }
  return object;
}

describe('validate', () => {
  it('has a good fixture for every kind', () => {
    expect(Object.keys(good).sort()).toEqual(ALL_KINDS.map((def) => def.kind).sort());
  });

  it.each(Object.keys(good))('accepts a good %s', (kind) => {
    expect(validate(kind, good[kind])).toEqual({ ok: true });
  });

  it.each([
    ['an unknown role', withSpec('Membership', { role: 'Owner' }), 'spec.role', /must be one of OrganizationAdministrator/],
    ['an email without a domain', withSpec('Membership', { email: 'dev@localhost' }), 'spec.email', /pattern/],
    ['an email with a space', withSpec('ApiKey', { owner: 'a b@example.com' }), 'spec.owner', /pattern/],
    ['an appName with a dash', withSpec('MiniApp', { appName: 'fx-rates' }), 'spec.appName', /pattern/],
    ['an unknown mini app type', withSpec('MiniApp', { type: 'Chat' }), 'spec.type', /must be one of Intent/],
    ['an unknown data protection mode', withSpec('MiniApp', { dataPrivacy: { protection: 'Rot13' } }), 'spec.dataPrivacy.protection', /must be one of/],
    ['a landing page rank of 0', withSpec('UserGroup', { landingPage: { url: '/x', rank: 0 } }), 'spec.landingPage.rank', /must be >= 1/],
    ['a role not written role:x:y', withSpec('UserGroup', { roles: ['loans:viewer'] }), 'spec.roles[0]', /pattern/],
    [
      'a manifest role with an empty part (a listing id may hold colons since seed 003, `role:a:b:c` is role c of listing a:b; an empty part is still refused)',
      withSpec('Solution', { manifest: { userGroupsRequired: [{ ...userGroup, roles: ['role:a::c'] }] } }),
      'spec.manifest.userGroupsRequired[0].roles[0]',
      /pattern/,
    ],
    ['a required role not written platform:role:x:y', withSpec('AppManifest', { rolesRequired: ['role:loans:x'] }), 'spec.rolesRequired[0]', /pattern/],
    ['a ttl that is not a Go duration', withSpec('ApiKey', { ttl: '30 days' }), 'spec.ttl', /pattern/],
    ['an expiresAt that is not a date-time', withSpec('ApiKey', { ttl: undefined, expiresAt: 'tomorrow' }), 'spec.expiresAt', /date-time/],
    ['an invitationTTL in days', withSpec('PlatformConfig', { invitationTTL: '7d' }), 'spec.invitationTTL', /pattern/],
    ['an icon in a Deployment', withSpec('Organization', { icon: { kind: 'Deployment', name: 'x', key: 'y' } }), 'spec.icon.kind', /must be one of Secret, ConfigMap/],
    ['an icon key with a slash', withSpec('Organization', { icon: { kind: 'Secret', name: 'x', key: 'a/b' } }), 'spec.icon.key', /pattern/],
    ['a namespace with capitals', withSpec('Organization', { namespace: 'Acme' }), 'spec.namespace', /pattern/],
    ['a missing displayName', withSpec('Organization', { displayName: undefined }), 'spec.displayName', /is required/],
    ['an unknown spec field', withSpec('Membership', { owner: 'x' }), 'spec.owner', /is not a field/],
    ['a duplicate category', withSpec('MiniApp', { categories: ['Payments', 'Payments'] }), 'spec.categories', /item 1 has a duplicate/],
    [
      'two apps of the same kind and name',
      withSpec('Membership', {
        apps: [
          { kind: 'MiniApp', name: 'a' },
          { kind: 'MiniApp', name: 'a' },
        ],
      }),
      'spec.apps',
      /item 1 has the same kind and name/,
    ],
    ['a mobile number with letters', withSpec('User', { mobiles: ['call me'] }), 'spec.mobiles[0]', /pattern/],
    ['a review decision of Maybe', withSpec('MiniAppReview', { decision: 'Maybe' }), 'spec.decision', /must be one of Approved, Rejected/],
  ])('rejects %s', (_, object, path, message) => {
    const result = validate(object.kind, object);
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.errors).toContainEqual({ path, message: expect.stringMatching(message) });
  });

  it('rejects an object of another API version, naming apiVersion', () => {
    const result = validate('Membership', { ...good.Membership, apiVersion: 'miniapps.dev/v1' });
    expect(result).toEqual({ ok: false, errors: [{ path: 'apiVersion', message: 'must be miniapps.dev/v1alpha1' }] });
  });

  it('accepts what only CEL refuses, since ajv cannot evaluate CEL: an Intent mini app without a domain', () => {
    expect(validate('MiniApp', withSpec('MiniApp', { domain: undefined }))).toEqual({ ok: true });
  });

  it('throws for a kind the API does not have', () => {
    expect(() => validate('Deployment', {})).toThrow(/Unknown kind Deployment/);
  });
});

describe('validateSpec', () => {
  it('accepts a good spec on its own', () => {
    expect(validateSpec('Membership', good.Membership!.spec)).toEqual({ ok: true });
  });

  it('names fields relative to the spec', () => {
    expect(validateSpec('Membership', { email: 'dev@acme.example', role: 'Owner' })).toEqual({
      ok: false,
      errors: [
        {
          path: 'role',
          message: 'must be one of OrganizationAdministrator, SuperAppAdministrator, MiniAppDeveloper, MiniAppReviewer, Collaborator, Member',
        },
      ],
    });
  });
});

describe('compileValidator', () => {
  it('validates a solution manifest read from a ConfigMap, naming the field', () => {
    const check = compileValidator(SolutionManifestSchema);
    expect(check({ userGroupsRequired: [userGroup] })).toEqual({ ok: true });
    expect(check({ userGroupsRequired: [{ name: 'x', landingPage: { url: '/' } }] })).toEqual({
      ok: false,
      errors: [{ path: 'userGroupsRequired[0].landingPage.rank', message: 'is required' }],
    });
  });
});
