// PlatformConfig: the platform's system parameters, a cluster-scoped singleton named `default`.

import type { Static } from '@sinclair/typebox';
import { Duration, Email, Int, Obj, Optional, Status, Str, StringEnum, StringSet, celRules, column, defineKind, printerColumns } from '../common.ts';
import type { Resource } from '../common.ts';
import { KIND_NAMES } from '../registry.ts';
import { DEFAULT_ORGANIZATION_MODEL, NAMESPACE_QUOTA_NAME, OrganizationModels, PLATFORM_CONFIG_NAME, PlatformConfigDefaults, QUOTA_SECRETS_MARGIN } from './names.ts';

export { PLATFORM_CONFIG_NAME, PlatformConfigDefaults, PlatformConfigConditions, DEFAULT_ORGANIZATION_MODEL, OrganizationModels, ORGANIZATION_CREATOR_ROLE, AUTHENTICATED_GROUP } from './names.ts';
export type { OrganizationModel } from './names.ts';

const prefix = (description: string, defaultValue: string) => Str(description, { maxLength: 32, pattern: '^([a-z0-9]([-a-z0-9]*[-a-z0-9])?)?$', default: defaultValue });

export const PlatformConfigSpecSchema = Obj(
  {
    provisioningAdministrators: Optional(
      Obj(
        {
          users: Optional(
            StringSet(
              Email('Email of a provisioning administrator, as they log in to the cluster.'),
              'Provisioning administrators by email. userPrefix is put before each one in the RBAC subject.',
              256,
            ),
          ),
          groups: Optional(
            StringSet(
              Str('Name of a group from the cluster authenticator.', { minLength: 1, maxLength: 253 }),
              'Groups whose members are provisioning administrators. groupPrefix is put before each one in the RBAC subject.',
              64,
            ),
          ),
        },
        'Who runs the platform: bound to the ClusterRole that manages Organizations, Tenants and everything in them.',
      ),
    ),
    categories: Optional(StringSet(Str('A mini app category, e.g. `Payments`.', { minLength: 1, maxLength: 64 }), 'Allowed values of MiniApp spec.categories.', 256)),
    platforms: Optional(StringSet(Str('A super app platform, e.g. `Android`, `iOS`, `Web`.', { minLength: 1, maxLength: 64 }), 'Allowed values of SuperApp spec.platforms.', 64)),
    invitationTTL: Optional(
      Duration('How long a membership invitation stays valid. Defaults to 168h (7 days).', {
        default: PlatformConfigDefaults.invitationTTL,
      }),
    ),
    namespacePrefix: Optional(
      Obj(
        {
          organization: Optional(
            prefix('Put before an Organization name to name its namespace when spec.namespace is not set. Defaults to `org-`.', PlatformConfigDefaults.namespacePrefix.organization),
          ),
          tenant: Optional(prefix('Put before a Tenant name to name its namespace when spec.namespace is not set. Defaults to `tenant-`.', PlatformConfigDefaults.namespacePrefix.tenant)),
        },
        'Prefixes of the namespaces the operator creates for organizations and tenants. Changing them does not move existing namespaces.',
        { default: {} },
      ),
    ),
    userPrefix: Optional(
      Str('What the cluster authenticator puts before a user name (e.g. `oidc:`), so that RBAC subjects match the names people log in with. Defaults to none.', {
        maxLength: 64,
        default: PlatformConfigDefaults.userPrefix,
      }),
    ),
    groupPrefix: Optional(
      Str('What the cluster authenticator puts before a group name (e.g. `oidc:`). Defaults to none.', {
        maxLength: 64,
        default: PlatformConfigDefaults.groupPrefix,
      }),
    ),
    organizationModel: Optional(
      StringEnum(
        OrganizationModels,
        "Which organization model the platform follows. MiniAppCenter (default, seed 000): provisioning administrators create Organizations; roles OrganizationAdministrator, SuperAppAdministrator, MiniAppDeveloper, MiniAppReviewer. AppCenter (seed 002): anyone signed in may create an Organization (annotated miniapps.dev/created-by with their own user name) and becomes its OrganizationAdministrator (App Center's Admin); roles OrganizationAdministrator, Collaborator and Member, and Collaborators and Members see only the apps they belong to. See docs/people.md.",
        { default: DEFAULT_ORGANIZATION_MODEL },
      ),
    ),
    quotas: Optional(
      Obj(
        {
          apiKeysPerOwner: Optional(
            Int(
              `How many ApiKeys one owner may hold in one namespace. A key beyond it is refused at admission, and the operator issues no key for one that slipped past (OwnerActive False, TooManyKeys). Defaults to ${PlatformConfigDefaults.quotas.apiKeysPerOwner}.`,
              { minimum: 1, maximum: 10000, default: PlatformConfigDefaults.quotas.apiKeysPerOwner },
            ),
          ),
          organizationsPerCreator: Optional(
            Int(
              `How many self-service Organizations (annotated miniapps.dev/created-by) one person may have: the operator gives no namespace to one beyond it (the oldest count first; NamespaceReady False, CreatorLimitReached). Provisioning administrators' Organizations do not count. Defaults to ${PlatformConfigDefaults.quotas.organizationsPerCreator}.`,
              { minimum: 0, maximum: 10000, default: PlatformConfigDefaults.quotas.organizationsPerCreator },
            ),
          ),
          namespace: Optional(
            Obj(
              {
                apiKeys: Optional(
                  Int(`count/apikeys.miniapps.dev of the ResourceQuota ${NAMESPACE_QUOTA_NAME}. Defaults to ${PlatformConfigDefaults.quotas.namespace.apiKeys}.`, {
                    minimum: 1,
                    maximum: 100000,
                    default: PlatformConfigDefaults.quotas.namespace.apiKeys,
                  }),
                ),
                secrets: Optional(
                  Int(`count/secrets of the ResourceQuota ${NAMESPACE_QUOTA_NAME} (API keys, data keys, icons). Defaults to ${PlatformConfigDefaults.quotas.namespace.secrets}.`, {
                    minimum: 1,
                    maximum: 100000,
                    default: PlatformConfigDefaults.quotas.namespace.secrets,
                  }),
                ),
              },
              `The ResourceQuota ${NAMESPACE_QUOTA_NAME} the operator keeps in every organization and tenant namespace it creates (not in an adopted one: its owners keep their own quotas), enforced by the API server itself. secrets must leave room for two Secrets per key (a rotating key in its grace period) and ${QUOTA_SECRETS_MARGIN} more (data keys, icons).`,
              celRules({
                rule: `!has(self.apiKeys) || !has(self.secrets) || self.secrets >= 2 * self.apiKeys + ${QUOTA_SECRETS_MARGIN}`,
                message: `quotas.namespace.secrets must be at least 2 * quotas.namespace.apiKeys + ${QUOTA_SECRETS_MARGIN}: every key holds one Secret and two during a rotation's grace period, and data keys and icons are Secrets too; raise secrets with apiKeys`,
              }),
            ),
          ),
        },
        'Limits on what members can make, so that no one can flood the API server or the operator.',
      ),
    ),
  },
  'Platform-wide parameters.',
);

export const PlatformConfigStatusSchema = Status(
  {
    accountAdministrators: Optional(
      StringSet(
        Email('Email (lowercase) of an Account with provisioningAdministrator.'),
        'The provisioning administrators made through Accounts (spec.provisioningAdministrator), written by the operator before it binds them: what the admission policies read beside spec.provisioningAdministrators.users (a key that authenticates as one is made only by a provisioning administrator).',
        4096,
      ),
    ),
  },
  'Observed state of the platform configuration.',
);

export type PlatformConfigSpec = Static<typeof PlatformConfigSpecSchema>;
export type PlatformConfigStatus = Static<typeof PlatformConfigStatusSchema>;
export type PlatformConfig = Resource<PlatformConfigSpec, PlatformConfigStatus>;

// This kind's object type, for what goes over every kind by the registry (domain/caches.ts).
declare module '../registry.ts' {
  interface KindObjects {
    PlatformConfig: PlatformConfig;
  }
}

export const platformConfigKind = defineKind(
  {
    ...KIND_NAMES.PlatformConfig,
    shortNames: ['pcfg'],
    description:
      "PlatformConfig holds the platform's system parameters: provisioning administrators, allowed categories and platforms, invitation lifetime and naming prefixes. It is a singleton named `default`.",
  },
  {
    specSchema: PlatformConfigSpecSchema,
    statusSchema: PlatformConfigStatusSchema,
    printerColumns: printerColumns(column('Invitation TTL', '.spec.invitationTTL', 'How long invitations stay valid.')),
    rootRules: [
      {
        rule: `self.metadata.name == '${PLATFORM_CONFIG_NAME}'`,
        message: `PlatformConfig is a singleton: name it '${PLATFORM_CONFIG_NAME}'`,
      },
    ],
  },
);
