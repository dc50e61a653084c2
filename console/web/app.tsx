// The console's shell: sign-in, the person's organizations and roles, the organization's
// tabs (shown only where the API server's rules review allows), language and sign out.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { type ApiError, call, get, setCsrf } from './api.ts';
import { lang, roleName, setLang, t } from './i18n.ts';
import type { Lang } from './i18n.ts';
import { can } from './model.ts';
import type { Me, MyOrganization } from './model.ts';
import { Accounts } from './screens/accounts.tsx';
import { ApiKeys } from './screens/apikeys.tsx';
import { Manage } from './screens/manage.tsx';
import { Members } from './screens/members.tsx';
import { Organizations } from './screens/organizations.tsx';
import { Reviews } from './screens/reviews.tsx';
import { SuperApps } from './screens/superapps.tsx';
import { Platform } from './screens/platform.tsx';
import { ICON_CONFIGMAP, Settings } from './screens/settings.tsx';
import { UserKeys } from './screens/userkeys.tsx';
import { TENANT_TABS, TenantPage } from './screens/tenant.tsx';
import { Loading, Refusal, Table } from './ui.tsx';

const useHash = (): string => {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
};

const TABS = [
  { id: 'members', label: 'Members', shown: (o: MyOrganization) => can(o.access, 'memberships', 'list') },
  { id: 'manage', label: 'Manage', shown: (o: MyOrganization) => can(o.access, 'miniapps', 'list') },
  { id: 'superapps', label: 'Super Apps', shown: (o: MyOrganization) => can(o.access, 'superapps', 'list') },
  { id: 'reviews', label: 'Reviews', shown: (o: MyOrganization) => can(o.access, 'miniappreviews', 'list') },
  {
    id: 'settings',
    label: 'Organization settings',
    shown: (o: MyOrganization) => (can(o.access, 'organizations', 'patch', o.name) && can(o.access, 'configmaps', 'patch', ICON_CONFIGMAP)) || can(o.access, 'organizations/provisioning', 'update'),
  },
  { id: 'apikeys', label: 'API keys', shown: (o: MyOrganization) => !!o.membership?.email && (can(o.access, 'apikeys', 'create') || can(o.access, 'apikeys', 'list')) },
] as const;

/** Security > Users: shown when the rules review lets the person list Accounts (provisioning administrators). */
const canListAccounts = (me: Me): boolean => can(me.cluster, 'accounts', 'list');

export function App() {
  const [session, setSession] = useState<{ signedIn: boolean; signIn: boolean }>();
  const [me, setMe] = useState<Me>();
  const [error, setError] = useState<string>();
  const [language, setLanguage] = useState<Lang>(lang());
  const hash = useHash();

  const loadMe = () => get<Me>('/console/api/me').then(setMe, (e: ApiError) => setError(e.message));
  useEffect(() => {
    get<{ signedIn: boolean; signIn: boolean; csrfToken: string }>('/console/api/session').then(
      (s) => {
        setCsrf(s.csrfToken);
        setSession(s);
        if (s.signedIn) void loadMe();
      },
      (e: ApiError) => setError(e.message),
    );
  }, []);
  // Access can change while the page is open (a new key, a new role, a new organization):
  // ask again on navigation, and every 15 s (no watch can tell a person their own access).
  useEffect(() => {
    if (session?.signedIn) void loadMe();
  }, [hash]);
  useEffect(() => {
    if (!session?.signedIn) return;
    const timer = setInterval(() => void loadMe(), 15_000);
    return () => clearInterval(timer);
  }, [session?.signedIn]);

  const changeLang = (l: Lang) => {
    setLang(l);
    setLanguage(l);
  };

  async function signOut() {
    const r = await call<{ redirect: string }>('POST', '/auth/logout');
    location.assign(r.redirect);
  }

  const header = (
    <header>
      <p class="brand">{t('Mini App Center')}</p>
      {me ? (
        <nav aria-label={t('Organizations')}>
          <a href="#/">{t('My organizations')}</a>
          {me.provisioningAdministrator ? <a href="#/organizations">{t('Organizations')}</a> : null}
          {me.provisioningAdministrator ? <a href="#/platform">{t('Platforms and categories')}</a> : null}
          {me.provisioningAdministrator ? <a href="#/userkeys">{t('API keys for users')}</a> : null}
          {canListAccounts(me) ? <a href="#/accounts">{t('Users')}</a> : null}
        </nav>
      ) : null}
      <div class="who">
        <label for="lang">{t('Language')}</label>
        <select id="lang" value={language} onChange={(e) => changeLang((e.target as HTMLSelectElement).value as Lang)}>
          <option value="en">English</option>
          <option value="es">Español</option>
        </select>
        {me ? (
          <span>
            {t('Signed in as')} <strong data-username>{me.username}</strong>
          </span>
        ) : null}
        {session?.signedIn ? (
          <button type="button" class="secondary" onClick={() => void signOut()}>
            {t('Sign out')}
          </button>
        ) : null}
      </div>
    </header>
  );

  let body: ComponentChildren;
  if (error) body = <Refusal error={error} />;
  else if (!session) body = <Loading />;
  else if (!session.signedIn) {
    body = (
      <section aria-labelledby="signin-title">
        <h1 id="signin-title">{t('Sign in')}</h1>
        <p>{t('You are not signed in.')}</p>
        {session.signIn ? (
          <a class="button" href={`/auth/login?returnTo=${encodeURIComponent(`/${location.hash}`)}`}>
            {t('SIGN IN')}
          </a>
        ) : (
          <p>{t('Sign-in is not configured: the console was started without --issuer-url.')}</p>
        )}
      </section>
    );
  } else if (!me) body = <Loading />;
  else {
    const route = hash.replace(/^#\/?/, '').split('/');
    if (route[0] === 'organizations' && me.provisioningAdministrator)
      body = (
        <>
          <h1>{t('Organizations')}</h1>
          <Organizations />
        </>
      );
    else if (route[0] === 'platform' && me.provisioningAdministrator)
      body = (
        <>
          <h1>{t('Platforms and categories')}</h1>
          <Platform />
        </>
      );
    else if (route[0] === 'userkeys' && me.provisioningAdministrator)
      body = (
        <>
          <h1>{t('API keys for users')}</h1>
          <UserKeys me={me} owner={route[1] ? decodeURIComponent(route[1]) : undefined} />
        </>
      );
    else if (route[0] === 'accounts' && canListAccounts(me))
      body = (
        <>
          <h1>{t('Security')}</h1>
          <Accounts me={me} />
        </>
      );
    else if (route[0] === 'orgs' && route[1]) body = <OrganizationPage me={me} name={route[1]} tab={route[2]} refresh={() => void loadMe()} />;
    else if (route[0] === 'tenants' && route[1]) body = <TenantRoute me={me} name={route[1]} tab={route[2]} user={route[3]} />;
    else body = <Home me={me} />;
  }

  return (
    <>
      {header}
      <main>{body}</main>
    </>
  );
}

function Home({ me }: { me: Me }) {
  return (
    <section aria-labelledby="home-title">
      <h1 id="home-title">{t('My organizations')}</h1>
      {me.provisioningAdministrator ? (
        <p data-role="provisioning">
          {t('Role')}: {t('Provisioning Administrator')}
        </p>
      ) : null}
      <MyTenants me={me} />
      {me.organizations.length === 0 ? (
        <p>{t('You are not a member of any organization yet.')}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('Organization')}</th>
              <th scope="col">{t('Role')}</th>
              <th scope="col">{t('Status')}</th>
              <th scope="col">{t('Namespace')}</th>
            </tr>
          </thead>
          <tbody>
            {me.organizations.map((o) => {
              const first = TABS.find((x) => x.shown(o));
              return (
                <tr key={o.name} data-org={o.name}>
                  <td>{first ? <a href={`#/orgs/${o.name}/${first.id}`}>{o.displayName ?? o.name}</a> : (o.displayName ?? o.name)}</td>
                  <td>{o.membership ? roleName(o.membership.role) : me.provisioningAdministrator ? t('Provisioning Administrator') : '—'}</td>
                  <td>
                    {o.membership?.phase ?? ''}
                    {o.problem ? <small class="why"> {o.problem}</small> : null}
                  </td>
                  <td>
                    <code>{o.namespace ?? ''}</code>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** "My tenants": the Tenants the person administers (me.ts: those they may get by name), shown only when there are any. */
function MyTenants({ me }: { me: Me }) {
  const tenants = me.tenants ?? [];
  if (tenants.length === 0) return null;
  return (
    <section aria-labelledby="tenants-title">
      <h2 id="tenants-title">{t('My tenants')}</h2>
      <Table columns={[t('Tenant'), t('Namespace')]}>
        {tenants.map((x) => {
          const first = TENANT_TABS.find((tab) => tab.shown(x));
          return (
            <tr key={x.name} data-tenant={x.name}>
              <td>
                {first ? <a href={`#/tenants/${x.name}/${first.id}`}>{x.displayName ?? x.name}</a> : (x.displayName ?? x.name)}
                {x.problem ? <small class="why"> {x.problem}</small> : null}
              </td>
              <td>
                <code>{x.namespace ?? ''}</code>
              </td>
            </tr>
          );
        })}
      </Table>
    </section>
  );
}

function TenantRoute({ me, name, tab, user }: { me: Me; name: string; tab?: string; user?: string }) {
  const tenant = me.tenants?.find((x) => x.name === name);
  if (!tenant?.namespace)
    return (
      <p>
        <a href="#/">{t('Back to my organizations')}</a>
      </p>
    );
  return <TenantPage tenant={tenant} tab={tab} user={user} />;
}

function OrganizationPage({ me, name, tab, refresh }: { me: Me; name: string; tab?: string; refresh: () => void }) {
  const org = me.organizations.find((o) => o.name === name);
  if (!org?.namespace)
    return (
      <p>
        <a href="#/">{t('Back to my organizations')}</a>
      </p>
    );
  const tabs = TABS.filter((x) => x.shown(org));
  const current = tabs.find((x) => x.id === tab) ?? tabs[0];
  return (
    <>
      <h1>
        {org.displayName ?? org.name} {org.membership ? <small>· {roleName(org.membership.role)}</small> : null}
      </h1>
      <nav class="tabs" aria-label={t('Organization')}>
        {tabs.map((x) => (
          <a href={`#/orgs/${name}/${x.id}`} aria-current={x === current ? 'page' : undefined}>
            {t(x.label)}
          </a>
        ))}
      </nav>
      {current?.id === 'members' ? <Members org={org} /> : null}
      {current?.id === 'manage' ? <Manage org={org} /> : null}
      {current?.id === 'superapps' ? <SuperApps org={org} /> : null}
      {current?.id === 'reviews' ? <Reviews org={org} /> : null}
      {current?.id === 'settings' ? <Settings org={org} /> : null}
      {current?.id === 'apikeys' ? <ApiKeys org={org} owner={org.membership!.email!} refresh={refresh} /> : null}
    </>
  );
}
