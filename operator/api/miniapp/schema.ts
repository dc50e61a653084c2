// MiniApp: a small app that runs inside one or more super apps.

import type { Static } from '@sinclair/typebox';
import { LabelName, List, LocalOrgRef, Obj, ObjectName, Optional, Status, Str, StringEnum, StringSet, Timestamp, Version, column, defineKind, mapList, printerColumns } from '../common.ts';
import type { Resource } from '../common.ts';
import { DATA_PROTECTION_MODES, MiniAppTargetStates } from './names.ts';
import { KIND_NAMES } from '../registry.ts';

export { MiniAppConditions } from './names.ts';

export const MiniAppTypes = ['Intent', 'Numeric', 'Alphanumeric', 'Alpha', 'Date', 'DateRange', 'Announcement', 'YesNo', 'WebService', 'IntelliCorpusCollection', 'Text'] as const;
export type MiniAppType = (typeof MiniAppTypes)[number];

export const DataProtectionModes = DATA_PROTECTION_MODES;
export type DataProtection = (typeof DataProtectionModes)[number];

export const TargetStates = MiniAppTargetStates;

export const MiniAppSpecSchema = Obj(
  {
    appName: Str('Name of the mini app in catalogs: letters, digits and underscores only.', {
      pattern: '^[A-Za-z0-9_]+$',
      minLength: 1,
      maxLength: 64,
    }),
    type: StringEnum(
      MiniAppTypes,
      'How the mini app interacts: Intent (needs domain), Numeric, Alphanumeric, Alpha, Date, DateRange, Announcement, YesNo, WebService, IntelliCorpusCollection or Text.',
    ),
    domain: Optional(Str('Domain of an Intent mini app, e.g. `payments`. Required when type is Intent.', { minLength: 1, maxLength: 253 })),
    superApps: Optional(
      List(
        LocalOrgRef('super app', 'A super app to publish in.', "the mini app's organization"),
        "Super apps to publish the mini app in: the organization's own, or those listed in the organization's spec.miniAppTargets.",
        { maxItems: 64 },
      ),
    ),
    categories: Optional(
      StringSet(Str('A category from PlatformConfig spec.categories.', { minLength: 1, maxLength: 64 }), 'Categories of the mini app; each must be listed in PlatformConfig spec.categories.', 16),
    ),
    locations: Optional(StringSet(Str('A location, e.g. a country or city code.', { minLength: 1, maxLength: 128 }), 'Where the mini app is offered.', 256)),
    versions: Optional(
      List(
        Obj(
          {
            name: Version('The version, e.g. `1.0.3`.'),
            description: Optional(Str('What the version is, e.g. release notes.', { maxLength: 2048 })),
          },
          'A version of the mini app.',
        ),
        'Versions of the mini app. Reviews approve one version for one super app.',
        mapList(['name'], 256),
      ),
    ),
    publishedVersion: Optional(Version('The version super app catalogs show; one of spec.versions.')),
    dataPrivacy: Optional(
      Obj(
        {
          protection: Optional(
            StringEnum(
              DataProtectionModes,
              "How the mini app's data is stored. None (default): plain text. IrreversibleMasking: masked. EnvelopeEncryption: encrypted with a per-app AES-256 data key, wrapped by the platform's key-encryption key and kept in a Secret.",
              { default: 'None' },
            ),
          ),
        },
        "How the mini app's data is protected at rest.",
      ),
    ),
  },
  'Desired state of the mini app.',
);

export const MiniAppStatusSchema = Status(
  {
    organization: Optional(LabelName("The mini app's organization (whose namespace this is).")),
    superApps: Optional(
      List(
        Obj(
          {
            organization: LabelName('Organization of the super app.'),
            name: ObjectName('Name of the super app.'),
            state: StringEnum(
              TargetStates,
              'Listed: in the catalog. AwaitingReview: needs an approving MiniAppReview. Rejected: the review rejected it. NotAllowed: not a permitted target. NotFound: no such super app. Unpublished: spec.publishedVersion is not set.',
            ),
            version: Optional(Version('The version the catalog lists.')),
            pendingVersion: Optional(Version('spec.publishedVersion, while it waits for review or was rejected and an earlier approved version is listed instead.')),
            message: Optional(Str("What the state means and what to do; for Rejected, the reviewer's comment.", { maxLength: 4096 })),
          },
          'Where the mini app stands in one super app.',
        ),
        'Where the mini app stands in each target super app.',
        mapList(['organization', 'name'], 64),
      ),
    ),
    dataKey: Optional(
      Obj(
        {
          secretName: ObjectName('Secret holding the wrapped data key.'),
          keyEncryptionKeyId: Str('Identifier of the key-encryption key that wraps the data key.', { maxLength: 253 }),
          wrappedAt: Timestamp('When the data key was last wrapped.'),
        },
        'The envelope-encryption data key (EnvelopeEncryption only). The key itself is never stored here.',
      ),
    ),
  },
  'Observed state of the mini app.',
);

export type MiniAppSpec = Static<typeof MiniAppSpecSchema>;
export type MiniAppStatus = Static<typeof MiniAppStatusSchema>;
export type MiniApp = Resource<MiniAppSpec, MiniAppStatus>;

// This kind's object type, for what goes over every kind by the registry (domain/caches.ts).
declare module '../registry.ts' {
  interface KindObjects {
    MiniApp: MiniApp;
  }
}

export const miniAppKind = defineKind(
  {
    ...KIND_NAMES.MiniApp,
    shortNames: ['mapp'],
    description:
      "MiniApp is a small app that runs inside super apps. It reaches a super app's catalog after an approving review. " +
      'Deleting it needs the annotation `miniapps.dev/confirm-delete: CONFIRM DELETE`.',
  },
  {
    specSchema: MiniAppSpecSchema,
    statusSchema: MiniAppStatusSchema,
    printerColumns: printerColumns(
      column('App Name', '.spec.appName', 'Name of the mini app in catalogs.'),
      column('Type', '.spec.type', 'Type of the mini app.'),
      column('Organization', '.status.organization', "The mini app's organization.", 'string', 1),
      column('Published', '.spec.publishedVersion', 'Version catalogs show.'),
      column('Protection', '.spec.dataPrivacy.protection', 'Data protection mode.', 'string', 1),
    ),
    specRules: [
      {
        rule: "self.type != 'Intent' || has(self.domain)",
        message: 'an Intent mini app needs spec.domain: set it, or choose another type',
        fieldPath: '.domain',
        reason: 'FieldValueRequired',
      },
      {
        rule: '!has(self.publishedVersion) || (has(self.versions) && self.versions.exists(v, v.name == self.publishedVersion))',
        message: 'spec.publishedVersion must be one of spec.versions[].name: add the version to spec.versions first',
        fieldPath: '.publishedVersion',
      },
    ],
  },
);
