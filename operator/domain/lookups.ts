// The lookups several kinds need, over the declared caches: the organization of a
// namespace, its members, the platform settings. Controllers use this layer instead of
// importing each other; every lookup goes through an index.
import { PLATFORM_CONFIG_NAME } from '../api/constants.ts';
import type { Membership, Organization, PlatformConfig } from '../api/index.ts';
import type { CacheReader, CacheSource } from '../runtime/cache.ts';
import { Caches, Index } from './caches.ts';
import { isActiveAdministrator, isActiveMember } from './members.ts';
import { settingsOf } from './settings.ts';
import type { PlatformSettings } from './settings.ts';

export class Domain {
  readonly organizations: CacheReader<Organization>;
  readonly memberships: CacheReader<Membership>;
  private readonly platformConfigs: CacheReader<PlatformConfig>;

  constructor(caches: CacheSource) {
    this.organizations = caches.cache(Caches.organizations);
    this.memberships = caches.cache(Caches.memberships);
    this.platformConfigs = caches.cache(Caches.platformConfigs);
  }

  /** The PlatformConfig `default`, if there is one. */
  platformConfig(): PlatformConfig | undefined {
    return this.platformConfigs.getByName(PLATFORM_CONFIG_NAME);
  }

  /** The platform settings as the PlatformConfig `default` says, defaults filled in. */
  settings(): PlatformSettings {
    return settingsOf(this.platformConfigs.getByName(PLATFORM_CONFIG_NAME)?.spec);
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

  /** Active administrators of the namespace's organization, other than the Membership `except`. */
  otherActiveAdministrators(namespace: string, except: string): Membership[] {
    return this.membersOf(namespace).filter((m) => m.metadata.name !== except && isActiveAdministrator(m));
  }
}
