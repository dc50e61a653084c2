// Organization: a group of people who build super apps and/or mini apps. Cluster-scoped;
// the operator gives it a namespace, RBAC for its members' roles and member counts.

import type { Static } from '@sinclair/typebox';
import {
  Bool,
  Int,
  LabelName,
  ObjectName,
  Obj,
  OrgRef,
  Optional,
  OwnNamespace,
  Patterns,
  Status,
  Str,
  StringEnum,
  List,
  Timestamp,
  column,
  defineKind,
  mapList,
  ownNamespaceRules,
  printerColumns,
} from '../common.ts';
import type { Resource } from '../common.ts';
import { FIRST_INVITATIONS_RECORDED } from '../membership/names.ts';
import { KIND_NAMES } from '../registry.ts';

export { OrganizationConditions, IconLimits, CREATOR_CONDITION, CREATOR_MEMBERSHIP_NAME, CreatorReasons, ORGANIZATION_ICON_CONFIGMAP } from './names.ts';
export { CREATED_BY_ANNOTATION } from '../constants.ts';

export const IconSourceKinds = ['Secret', 'ConfigMap'] as const;

export const IconReferenceSchema = Obj(
  {
    kind: StringEnum(IconSourceKinds, 'Kind of the object holding the icon: Secret or ConfigMap.'),
    name: ObjectName("Name of the Secret or ConfigMap in the organization's namespace."),
    key: Str('Key holding the image bytes (ConfigMap binaryData or data, Secret data), e.g. `icon.png`.', { pattern: Patterns.configKey, minLength: 1, maxLength: 253 }),
  },
  "The organization's icon: a key of a Secret or ConfigMap in the organization's namespace (status.namespace). " +
    'The image must be PNG, JPEG, GIF or WebP of at most 512×512 pixels and 1 MiB; the operator reports the check as the IconValid condition. ' +
    'The Secret or ConfigMap is used only if it carries the label `miniapps.dev/icon: "true"` (its consent to be read as an icon; the label keeps the check from telling anything about other Secrets and ConfigMaps).',
);

export const OrganizationSpecSchema = Obj(
  {
    displayName: Str('Name of the organization as people read it.', { minLength: 1, maxLength: 128 }),
    description: Optional(Str('What the organization is.', { maxLength: 2048 })),
    capabilities: Optional(
      Obj(
        {
          superApps: Optional(Bool('Members may create super apps ("Can Create Super Apps"). Defaults to false.', { default: false })),
          miniApps: Optional(Bool('Members may create mini apps ("Can Create Mini Apps"). Defaults to false.', { default: false })),
        },
        'What the provisioning administrator allows the organization to create.',
      ),
    ),
    miniAppTargets: Optional(
      List(
        OrgRef('super app', 'A super app of another organization.'),
        "Super apps of other organizations in which this organization may publish mini apps (the partner-organization permission). The organization's own super apps are always allowed.",
        mapList(['organization', 'name'], 256),
      ),
    ),
    icon: Optional(IconReferenceSchema),
    namespace: OwnNamespace('Organization', 'namespacePrefix.organization'),
  },
  'Desired state of the organization, written by a provisioning administrator.',
);

export const OrganizationStatusSchema = Status(
  {
    namespace: Optional(LabelName("Name of the organization's namespace.")),
    members: Optional(
      Obj(
        {
          active: Int('Memberships with phase Active.', { minimum: 0 }),
          invited: Int('Memberships with phase Invited.', { minimum: 0 }),
          suspended: Int('Memberships with phase Suspended.', { minimum: 0 }),
          administrators: Int('Active memberships with role OrganizationAdministrator.', { minimum: 0 }),
        },
        'Member counts by phase.',
      ),
    ),
    firstInvitations: Optional(
      List(
        Obj(
          {
            recipient: Str("HMAC-SHA-256 (under the operator's invitation key) of the organization and the lowercased email: never the address.", { maxLength: 64 }),
            sentAt: Timestamp('When the first email of a Membership to this recipient was allowed.'),
            membership: Optional(Str("12 hex digits of an HMAC of the Membership's uid: a Membership admitted once is not counted again after a restart.", { maxLength: 16 })),
          },
          'One first email (an invitation or an access notification) of a Membership.',
        ),
        'The first emails of Memberships in the last rolling day, whoever they went to, kept by the operator alone so that the invitation limits outlive deleted Memberships.',
        { maxItems: FIRST_INVITATIONS_RECORDED },
      ),
    ),
  },
  'Observed state of the organization.',
);

export type IconReference = Static<typeof IconReferenceSchema>;
export type OrganizationSpec = Static<typeof OrganizationSpecSchema>;
export type OrganizationStatus = Static<typeof OrganizationStatusSchema>;
export type Organization = Resource<OrganizationSpec, OrganizationStatus>;

// This kind's object type, for what goes over every kind by the registry (domain/caches.ts).
declare module '../registry.ts' {
  interface KindObjects {
    Organization: Organization;
  }
}

export const organizationKind = defineKind(
  {
    ...KIND_NAMES.Organization,
    shortNames: ['org'],
    description:
      "Organization is a group of people who build super apps and/or mini apps. The operator creates its namespace and the RBAC that turns each member's role into permissions, and reports member counts. " +
      'Deleting it needs the annotation `miniapps.dev/confirm-delete: CONFIRM DELETE` and removes everything in it.',
  },
  {
    specSchema: OrganizationSpecSchema,
    statusSchema: OrganizationStatusSchema,
    printerColumns: printerColumns(
      column('Display Name', '.spec.displayName', 'Name of the organization.', 'string', 1),
      column('Namespace', '.status.namespace', "The organization's namespace."),
      column('Members', '.status.members.active', 'Active members.', 'integer'),
      column('Super Apps', '.spec.capabilities.superApps', 'May create super apps.', 'boolean', 1),
      column('Mini Apps', '.spec.capabilities.miniApps', 'May create mini apps.', 'boolean', 1),
    ),
    specRules: ownNamespaceRules('Organization'),
  },
);
