// The lookups several kinds need, over the declared caches: the organization of a
// namespace, its members, the platform settings. Controllers use this layer instead of
// importing each other; every lookup goes through an index.
import { PLATFORM_CONFIG_NAME } from '../api/platformconfig/names.ts';
import { lowerAscii } from '../api/constants.ts';
import type { Membership } from '../api/membership/schema.ts';
import type { Organization } from '../api/organization/schema.ts';
import type { PlatformConfig } from '../api/platformconfig/schema.ts';
import type { CacheReader, CacheSource } from '../runtime/cache.ts';
import { Caches, Index, accountSuspended, emailKey } from './caches.ts';
import type { AccountEntry } from './caches.ts';
import { isActiveAdministrator, isActiveMember } from './members.ts';
import { settingsOf } from './settings.ts';
import type { PlatformSettings } from './settings.ts';

export class Domain {
  readonly organizations: CacheReader<Organization>;
  readonly memberships: CacheReader<Membership>;
  private readonly platformConfigs: CacheReader<PlatformConfig>;
  private readonly caches: CacheSource;
  private accounts?: CacheReader<AccountEntry>;

  constructor(caches: CacheSource) {
    this.caches = caches;
    this.organizations = caches.cache(Caches.organizations);
    this.memberships = caches.cache(Caches.memberships);
    this.platformConfigs = caches.cache(Caches.platformConfigs);
  }

  /**
   * Whether the embedded identity provider's account with this email is suspended (seed
   * 001: suspension is of the account). The cache is made on first use: only modules that
   * declare Caches.accountSecrets ask (the ApiKey module).
   */
  isAccountSuspended(email: string): boolean {
    this.accounts ??= this.caches.cache(Caches.accountSecrets);
    return this.accounts.byIndex(Index.email, lowerAscii(email)).some(accountSuspended);
  }

  /** The PlatformConfig `default`, if there is one. */
  platformConfig(): PlatformConfig | undefined {
    return this.platformConfigs.getByName(PLATFORM_CONFIG_NAME);
  }

  private lastSettings?: { of: PlatformConfig | undefined; settings: PlatformSettings };

  /** The platform settings as the PlatformConfig `default` says, defaults filled in (computed once per version of it). */
  settings(): PlatformSettings {
    const pc = this.platformConfigs.getByName(PLATFORM_CONFIG_NAME);
    if (this.lastSettings?.of !== pc || !this.lastSettings) this.lastSettings = { of: pc, settings: settingsOf(pc?.spec) };
    return this.lastSettings.settings;
  }

  /** The Organization whose namespace this is (as recorded in its status), if any. */
  organizationOf(namespace: string | undefined): Organization | undefined {
    return namespace ? this.organizations.byIndex(Index.namespace, namespace)[0] : undefined;
  }

  /** The Memberships of the organization whose namespace this is. */
  membersOf(namespace: string): Membership[] {
    return this.memberships.byIndex(Index.namespace, namespace);
  }

  /** Active members of the namespace's organization. */
  activeMembersOf(namespace: string): Membership[] {
    return this.membersOf(namespace).filter(isActiveMember);
  }

  /**
   * The Membership of `email` (compared lowercased) in the namespace's organization: the
   * oldest one when a duplicate slipped past admission (the one the Membership controller
   * honours).
   */
  memberByEmail(namespace: string, email: string): Membership | undefined {
    const found = this.memberships.byIndex(Index.email, emailKey(namespace, email));
    if (found.length <= 1) return found[0];
    return [...found].sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || a.metadata.name.localeCompare(b.metadata.name))[0];
  }

  /**
   * Whether the PlatformConfig names `email` as a provisioning administrator (among its
   * users, compared lowercased, or among the Accounts' in its status). A group membership cannot be seen from here: only the
   * cluster's authenticator knows a person's groups.
   */
  isProvisioningAdministrator(email: string): boolean {
    const wanted = lowerAscii(email);
    // And the Accounts with provisioningAdministrator, as the Account controller records them in the PlatformConfig's status.
    return this.settings().provisioningAdministrators.users.some((u) => lowerAscii(u) === wanted) || (this.platformConfig()?.status?.accountAdministrators ?? []).includes(wanted);
  }

  /** Active administrators of the namespace's organization, other than the Membership `except`. */
  otherActiveAdministrators(namespace: string, except: string): Membership[] {
    return this.membersOf(namespace).filter((m) => m.metadata.name !== except && isActiveAdministrator(m));
  }
}
