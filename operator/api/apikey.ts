// ApiKey: a key people and systems use to call the platform's APIs as the key's owner.

import type { Static } from '@sinclair/typebox';
import {
  Bool,
  Duration,
  Email,
  Int64,
  ObjectName,
  Obj,
  Optional,
  Status,
  Str,
  StringSet,
  Timestamp,
  column,
  defineKind,
  immutable,
  printerColumns,
} from './common.ts';
import type { Resource } from './common.ts';
import { KIND_NAMES, API_KEY_SECRET_KEY } from './constants.ts';

export { ApiKeyConditions, API_KEY_SECRET_KEY } from './constants.ts';

export const ApiKeySpecSchema = Obj(
  {
    owner: Email(
      'Email of the key\'s owner: an active member of the organization, or a provisioning administrator. The key authenticates as this person. Cannot be changed.',
      immutable('spec.owner', 'create a new ApiKey for the other owner and revoke this one'),
    ),
    description: Optional(Str('What the key is for.', { maxLength: 1024 })),
    expiresAt: Optional(Timestamp('When the key stops working. Set this or ttl, not both.')),
    ttl: Optional(Duration('How long after its first issue the key stops working (rotations do not extend it). Set this or expiresAt, not both.')),
    scopes: Optional(
      StringSet(
        Str('A scope, e.g. `catalog:read`.', { pattern: '^[A-Za-z0-9_.:*/-]+$', minLength: 1, maxLength: 128 }),
        'What the key may be used for. Empty means everything its owner may do.',
        64,
      ),
    ),
    rotation: Optional(
      Obj(
        {
          period: Duration('How often a new key replaces the current one.'),
          gracePeriod: Optional(Duration('How long the previous key keeps working after a rotation. Defaults to 0s.', { default: '0s' })),
        },
        'Automatic rotation. Without it the key is never rotated.',
      ),
    ),
    revoked: Optional(Bool('Disables the key at once and for good. Defaults to false.', { default: false })),
  },
  'Desired state of the key.',
);

export const ApiKeyStatusSchema = Status(
  {
    keyId: Optional(Str('Identifier of the current key; not secret.', { maxLength: 64 })),
    prefix: Optional(Str('The recognizable, non-secret start of the current key, e.g. `mak_3f9a`.', { maxLength: 32 })),
    fingerprint: Optional(Str('SHA-256 fingerprint of the current key, hex.', { maxLength: 128 })),
    createdAt: Optional(Timestamp('When the current key was issued.')),
    expiresAt: Optional(Timestamp('When the key stops working.')),
    rotationRevision: Optional(Int64('How many times the key was rotated; 0 for the first key.', { minimum: 0 })),
    secretName: Optional(ObjectName(`Secret, readable only by the owner, whose ${API_KEY_SECRET_KEY} key holds the key.`)),
    previousKey: Optional(
      Obj(
        {
          keyId: Str('Identifier of the previous key.', { maxLength: 64 }),
          validUntil: Timestamp('When the previous key stops working (rotation plus grace period).'),
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
    ],
  },
);
