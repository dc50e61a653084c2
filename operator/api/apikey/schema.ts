// ApiKey: a key people and systems use to call the platform's APIs as the key's owner.

import type { Static } from '@sinclair/typebox';
import { Bool, Duration, StringEnum, celRules, Email, Int64, ObjectName, Obj, Optional, Status, Str, StringSet, Timestamp, column, defineKind, immutable, printerColumns } from '../common.ts';
import type { Resource } from '../common.ts';
import { API_KEY_PREFIX, API_KEY_SECRET_KEY, API_KEY_SECRET_TYPE, ApiKeyPhases, KUBERNETES_SCOPE } from './names.ts';
import { KIND_NAMES } from '../registry.ts';

export { ApiKeyConditions, ApiKeyPhases, API_KEY_PREFIX, API_KEY_SECRET_KEY, API_KEY_SECRET_TYPE, KUBERNETES_SCOPE } from './names.ts';
export type { ApiKeyPhase } from './names.ts';

export const ApiKeySpecSchema = Obj(
  {
    owner: Email(
      "Email of the key's owner: an active member of the organization, or a provisioning administrator. The key authenticates as this person. Cannot be changed.",
      immutable('spec.owner', 'create a new ApiKey for the other owner and revoke this one'),
    ),
    description: Optional(Str('What the key is for.', { maxLength: 1024 })),
    expiresAt: Optional(Timestamp('When the key stops working: it is refused from that second on. Set this or ttl, not both; a time in the past is refused.')),
    ttl: Optional(Duration('How long after the ApiKey was created the key stops working (rotations do not extend it). Set this or expiresAt, not both.')),
    scopes: Optional(
      StringSet(
        Str('A scope, e.g. `catalog:read`; a trailing `*` matches every scope that starts with what precedes it (`catalog:*`).', { pattern: '^[A-Za-z0-9_.:*/-]+$', minLength: 1, maxLength: 128 }),
        `What the key may be used for. Empty means everything its owner may do. \`${KUBERNETES_SCOPE}\` lets the key authenticate to the Kubernetes API (kubectl --token) as its owner; a key whose scopes leave it out is refused there and serves only the verify endpoint, for its scopes. A key never does more than its owner may.`,
        64,
      ),
    ),
    rotation: Optional(
      Obj(
        {
          period: Duration('How often a new key replaces the current one (at least 1s).'),
          gracePeriod: Optional(Duration('How long the previous key keeps working after a rotation; at most the period. Defaults to 0s.', { default: '0s' })),
        },
        'Automatic rotation. Without it the key is never rotated.',
        celRules(
          { rule: "duration(self.period) >= duration('1s')", message: 'spec.rotation.period must be at least 1s', fieldPath: '.period' },
          {
            rule: '!has(self.gracePeriod) || duration(self.gracePeriod) <= duration(self.period)',
            message: 'spec.rotation.gracePeriod must not be longer than spec.rotation.period: the previous key would outlive the next rotation',
            fieldPath: '.gracePeriod',
          },
        ),
      ),
    ),
    revoked: Optional(Bool('Disables the key at once and for good (it cannot be set back to false). Defaults to false.', { default: false })),
  },
  'Desired state of the key.',
);

export const ApiKeyStatusSchema = Status(
  {
    phase: Optional(
      StringEnum(
        ApiKeyPhases,
        'Pending: no key issued yet. Active: the current key authenticates as the owner. Expired: past expiresAt. Revoked: spec.revoked. Disabled: the owner is suspended, removed, or no longer a provisioning administrator.',
      ),
    ),
    keyId: Optional(Str('Identifier of the current key, also written in the key itself; not secret.', { maxLength: 64 })),
    prefix: Optional(Str(`The recognizable, non-secret start of the current key: \`${API_KEY_PREFIX}\` and the keyId.`, { maxLength: 32 })),
    fingerprint: Optional(
      Str('SHA-256 of the current key, hex: what verification compares a presented key with (the key has 256 random bits, so its hash reveals nothing of it).', { maxLength: 128 }),
    ),
    createdAt: Optional(Timestamp('When the current key was issued (its Secret was created).')),
    expiresAt: Optional(Timestamp('When the key stops working.')),
    rotationRevision: Optional(Int64('The revision of the current key: 0 for the first key, one more at each rotation.', { minimum: 0 })),
    secretName: Optional(ObjectName(`Secret (type ${API_KEY_SECRET_TYPE}), readable only by the owner, whose ${API_KEY_SECRET_KEY} key holds the current key.`)),
    seal: Optional(
      Str(
        "The operator's HMAC (under a key only it holds), `v1:<seal key id>:<mac>`, over the current key's record (keyId, fingerprint, secretName, rotationRevision, createdAt) and the ApiKey's namespace, name and uid: verification accepts a key, and the operator grants or deletes a Secret, only from a record it sealed (or one whose Secret it marked as this ApiKey's and that holds that key).",
        { maxLength: 128 },
      ),
    ),
    previousKey: Optional(
      Obj(
        {
          keyId: Str('Identifier of the previous key.', { maxLength: 64 }),
          fingerprint: Str('SHA-256 of the previous key, hex.', { maxLength: 128 }),
          secretName: Optional(ObjectName('Secret that holds the previous key.')),
          validUntil: Timestamp('When the previous key stops working (rotation plus grace period).'),
          seal: Optional(Str("The operator's HMAC over this record and the ApiKey's identity: a record it did not write is ignored.", { maxLength: 128 })),
        },
        'The key replaced by the last rotation, while its grace period lasts.',
      ),
    ),
  },
  'Observed state of the key. The key itself is never here: only its Secret holds it; elsewhere only its hash is kept.',
);

export type ApiKeySpec = Static<typeof ApiKeySpecSchema>;
export type ApiKeyStatus = Static<typeof ApiKeyStatusSchema>;
export type ApiKey = Resource<ApiKeySpec, ApiKeyStatus>;

// This kind's object type, for what goes over every kind by the registry (domain/caches.ts).
declare module '../registry.ts' {
  interface KindObjects {
    ApiKey: ApiKey;
  }
}

export const apiKeyKind = defineKind(
  {
    ...KIND_NAMES.ApiKey,
    shortNames: ['ak'],
    description:
      "ApiKey lets a person or a system call the platform's APIs as the key's owner. The operator generates the key into a Secret only the owner may read, keeps only its hash elsewhere, rotates it, and disables it at expiry, on revocation, or when the owner is suspended or removed.",
  },
  {
    specSchema: ApiKeySpecSchema,
    statusSchema: ApiKeyStatusSchema,
    printerColumns: printerColumns(
      column('Owner', '.spec.owner', "The key's owner."),
      column('Phase', '.status.phase', 'Pending, Active, Expired, Revoked or Disabled.'),
      column('Prefix', '.status.prefix', 'Start of the current key.'),
      column('Expires', '.status.expiresAt', 'When the key stops working.'),
      column('Revoked', '.spec.revoked', 'Whether the key is revoked.', 'boolean', 1),
    ),
    specRules: [
      {
        rule: 'has(self.expiresAt) != has(self.ttl)',
        message: 'set exactly one of spec.expiresAt (a date-time) and spec.ttl (a duration such as 720h)',
        reason: 'FieldValueInvalid',
      },
      {
        rule: '!(has(oldSelf.revoked) && oldSelf.revoked) || (has(self.revoked) && self.revoked)',
        message: 'spec.revoked cannot be undone: a revoked key stays revoked; create a new ApiKey',
        fieldPath: '.revoked',
      },
    ],
  },
);
