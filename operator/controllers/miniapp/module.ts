import { ROTATE_KEK_ANNOTATION } from '../../api/miniapp/names.ts';
import { Caches } from '../../domain/caches.ts';
import { KeyRing } from './keyring.ts';
import type { OperatorModule } from '../module.ts';
import { miniAppValidator } from './admission.ts';
import { miniAppController } from './controller.ts';
import { SecretDataKeys } from './datakeys.ts';
import { AppDirectory } from '../../domain/directory.ts';
import { dataProtectionRoutes } from './protect.ts';
import type { DataProtectionBackend } from './protect.ts';

/**
 * MiniApp: where it stands in each super app, its data key (the key-encryption key is
 * made on first start, in the operator's namespace), its confirmed deletion, the target
 * and category rules.
 */
export const miniAppModule: OperatorModule = {
  name: 'miniapp',
  caches: [Caches.miniApps, Caches.superApps, Caches.miniAppReviews, Caches.organizations, Caches.namespaces, Caches.platformConfigs],
  admits: ['MiniApp'],
  async setup({ deps, config, authority }) {
    const ring = new KeyRing(deps.store, config.namespace, deps.clock);
    const state = await ring.ensureExists();
    if (!state.ok) deps.log.error({ problem: state.problem }, 'Key-encryption key unusable: no data key is made or rewrapped until it is restored');
    const dataKeys = new SecretDataKeys({
      store: deps.store,
      ring,
      clock: deps.clock,
      log: deps.log.child({ component: 'data-keys' }),
      caches: deps.caches,
      rotationRequest: () => deps.domain.platformConfig()?.metadata.annotations?.[ROTATE_KEK_ANNOTATION],
    });
    const dir = new AppDirectory(deps.caches, deps.domain);
    const backend: DataProtectionBackend = {
      target: (ref) => ({ namespace: dir.namespaceOf(ref.organization) ?? `${deps.domain.settings().namespacePrefix.organization}${ref.organization}`, name: ref.name }),
      resolve: (ref) => {
        const mini = dir.miniAppOf(ref);
        if (!mini || dir.leaving(mini)) return undefined;
        return { namespace: mini.metadata.namespace!, name: mini.metadata.name, uid: mini.metadata.uid!, protection: mini.spec.dataPrivacy?.protection ?? 'None' };
      },
      dataKey: async (app) => {
        const mini = dir.miniApps.getByName(app.name, app.namespace);
        return mini && mini.metadata.uid === app.uid ? dataKeys.dataKeyOf(mini) : undefined;
      },
    };
    return {
      controllers: [miniAppController(deps, { dataKeys })],
      admission: [{ kind: 'MiniApp', validate: miniAppValidator(deps.domain) }],
      routes: dataProtectionRoutes({ authority, backend, log: deps.log }),
    };
  },
};
