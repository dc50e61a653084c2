import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { errorMessage, isConflict } from '../runtime/errors.ts';
import type { AnyObject, KubeClient } from '../runtime/kube/client.ts';
import { Resources } from '../runtime/kube/resource.ts';
import { close, listen, readBody } from './listen.ts';

export interface AdmissionRequest<T = AnyObject> {
  uid: string;
  kind: { group: string; version: string; kind: string };
  name?: string;
  namespace?: string;
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  userInfo: { username?: string; groups?: string[] };
  object?: T;
  oldObject?: T;
  dryRun?: boolean;
}

/** A rule that spans objects: returns why the request is refused, or undefined to allow it. */
export type Validator = (req: AdmissionRequest) => string | undefined | Promise<string | undefined>;

export const WEBHOOK_PATH = '/validate';

const MIN_TLS = 'TLSv1.2';

/** A handler of one path on the TLS listener. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * How long a client may take, on every TLS listener (as the acceptance page): a slow or
 * silent client cannot hold a connection, and so a socket and its memory, for long.
 */
/**
 * An idle keep-alive connection of the API server's, on the webhook listener with a client
 * CA: above the 90 s its clients keep idle connections, so the operator never closes one
 * under a POST it is writing (Go does not retry a POST that was written; with failurePolicy
 * Ignore the rule would be skipped). Only the API server gets such a connection: anyone
 * else is answered 401 with `connection: close`.
 */
export const WEBHOOK_KEEP_ALIVE_MS = 120_000;

export const TLS_TIMEOUTS = {
  /** The TLS handshake. */
  handshakeTimeout: 10_000,
  /** The request's headers, from its first byte. */
  headersTimeout: 10_000,
  /** The whole request, body included. */
  requestTimeout: 15_000,
  /** An idle keep-alive connection between requests (Node's default: a busy gateway's connections never idle that long). */
  keepAliveTimeout: 5_000,
  /** How often the server checks the header and request timeouts (Node's default is 30 s). */
  connectionsCheckingInterval: 1_000,
};

export interface TlsRouterOptions {
  /** Which listener it is, in logs (`webhook`, `api`). */
  name: string;
  /** Readiness of /readyz (and of the validating webhook's rules). */
  isReady?: () => boolean;
  /**
   * PEM of the CAs whose client certificates may call this listener: every request without
   * one verified against them is refused with a bare 401 before its body is read. Unset:
   * any client.
   */
  clientCA?: string;
  /** With clientCA: the common names answered (--webhook-client-allowed-names); unset or empty: any certificate of the CA. */
  clientNames?: readonly string[];
  /** Overrides of TLS_TIMEOUTS (tests). */
  timeouts?: Partial<typeof TLS_TIMEOUTS>;
}

/**
 * A TLS listener routing by path, with /readyz; its serving certificate is replaced
 * without a restart. Two of them run: the API server's (`--webhook-bind-address`: the
 * validating and authentication webhooks, for a client certificate of the API server) and
 * the APIs' (`--api-bind-address`: verify, data protection, token roles, /metrics, each
 * authenticating its callers by bearer token).
 */
export class TlsRouter {
  protected readonly server: Server;
  private readonly routes = new Map<string, RouteHandler>();
  protected readonly log: Logger;
  private readonly address: { host: string; port: number };
  protected readonly isReady: () => boolean;
  private readonly clientCA?: string;
  private readonly clientNames?: readonly string[];
  port = 0;

  constructor(tls: { cert: string; key: string }, address: { host: string; port: number }, log: Logger, opts: TlsRouterOptions) {
    this.log = log.child({ server: opts.name });
    this.address = address;
    this.isReady = opts.isReady ?? (() => true);
    this.clientCA = opts.clientCA;
    this.clientNames = opts.clientNames?.length ? opts.clientNames : undefined;
    const t = { ...TLS_TIMEOUTS, ...opts.timeouts };
    this.route('/readyz', (_req, res) => res.writeHead(this.isReady() ? 200 : 503).end());
    this.server = createServer(
      {
        ...this.context(tls),
        ...(this.clientCA ? { requestCert: true, rejectUnauthorized: false } : {}),
        handshakeTimeout: t.handshakeTimeout,
        headersTimeout: t.headersTimeout,
        requestTimeout: t.requestTimeout,
        keepAliveTimeout: t.keepAliveTimeout,
        connectionsCheckingInterval: t.connectionsCheckingInterval,
      },
      (req, res) => {
        // A caller the listener does not know learns nothing: the same bare 401 whatever it asked.
        if (this.clientCA && !this.knownClient(req.socket as TLSSocket)) {
          req.resume();
          res.writeHead(401, { 'content-type': 'application/json', connection: 'close' }).end('{"error":"Unauthorized"}');
          return;
        }
        const handler = this.routes.get((req.url ?? '/').split('?')[0]!);
        if (handler) handler(req, res);
        else res.writeHead(404).end();
      },
    );
  }

  /**
   * A certificate of the client CA was verified, it is there (also on a resumed session,
   * whose certificate OpenSSL keeps), and its common name is one allowed, when names are set.
   */
  private knownClient(socket: TLSSocket): boolean {
    if (!socket.authorized) return false;
    const cert = socket.getPeerCertificate();
    if (!cert || !Object.keys(cert).length) return false;
    if (!this.clientNames) return true;
    const cn = cert.subject?.CN;
    return (Array.isArray(cn) ? cn : [cn]).some((n) => n !== undefined && this.clientNames!.includes(n));
  }

  private context(tls: { cert: string; key: string }) {
    return { cert: tls.cert, key: tls.key, minVersion: MIN_TLS, ...(this.clientCA ? { ca: this.clientCA } : {}) } as const;
  }

  /**
   * Serves `tls` from the next handshake on (a renewed certificate): connections already
   * open finish on the one they started with, none is dropped.
   */
  setCertificate(tls: { cert: string; key: string }): void {
    this.server.setSecureContext(this.context(tls));
  }

  /** Adds a route (before start); a path has one handler. */
  route(path: string, handler: RouteHandler): void {
    if (this.routes.has(path)) throw new Error(`Route ${path} is registered twice on the ${this.log.bindings().server as string} listener`);
    this.routes.set(path, handler);
  }

  /** How long an idle keep-alive connection stays open. */
  get keepAliveTimeout(): number {
    return this.server.keepAliveTimeout;
  }

  /** Whether callers must present a client certificate of the configured CA. */
  get authenticatesClients(): boolean {
    return !!this.clientCA;
  }

  async start(): Promise<number> {
    this.port = await listen(this.server, this.address);
    return this.port;
  }

  stop(): Promise<void> {
    return close(this.server);
  }
}

/**
 * The API server's TLS listener: `/validate` (the validating webhook), `/readyz`, and the
 * routes modules add for the API server (the authentication webhook for API keys).
 * Validators are registered per kind and read only from the operator's caches, so
 * admission never waits on the API server. With a client CA, only a caller presenting a
 * certificate it signed (the API server, from its webhook kubeconfigs) is answered.
 */
export class WebhookServer extends TlsRouter {
  private readonly validators = new Map<string, Validator[]>();

  constructor(tls: { cert: string; key: string }, address: { host: string; port: number }, log: Logger, isReady: () => boolean = () => true, opts: Omit<TlsRouterOptions, 'name' | 'isReady'> = {}) {
    super(tls, address, log, { ...opts, name: 'webhook', isReady, timeouts: { ...(opts.clientCA ? { keepAliveTimeout: WEBHOOK_KEEP_ALIVE_MS } : {}), ...opts.timeouts } });
    this.route(WEBHOOK_PATH, (req, res) => {
      if (req.method !== 'POST') {
        res.writeHead(405, { allow: 'POST' }).end();
        return;
      }
      readBody(req)
        .then((body) => this.review(JSON.parse(body) as { request?: AdmissionRequest }))
        .then(
          (review) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(review)),
          (err: unknown) => res.writeHead(400, { 'content-type': 'text/plain' }).end(errorMessage(err)),
        );
    });
  }

  register(kind: string, validator: Validator): void {
    const list = this.validators.get(kind) ?? [];
    list.push(validator);
    this.validators.set(kind, list);
  }

  async review(body: { request?: AdmissionRequest }): Promise<unknown> {
    const req = body.request;
    if (!req?.uid) throw new Error('Not an AdmissionReview: request.uid is missing');
    const validators = this.validators.get(req.kind.kind) ?? [];
    // The rules read the caches: until they are loaded, an answer could be wrong.
    let denied = validators.length && !this.isReady() ? "The operator's caches are still loading; try again in a few seconds" : undefined;
    for (const v of denied ? [] : validators) {
      try {
        denied = await v(req);
      } catch (err) {
        denied = `The operator could not check this request (${errorMessage(err)}); try again`;
        this.log.error({ err: errorMessage(err), kind: req.kind.kind, name: req.name }, 'Validator failed');
      }
      if (denied) break;
    }
    if (denied) this.log.info({ kind: req.kind.kind, namespace: req.namespace, name: req.name, operation: req.operation, user: req.userInfo.username, reason: denied }, 'Admission denied');
    return {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: denied ? { uid: req.uid, allowed: false, status: { code: 403, reason: 'Forbidden', message: denied } } : { uid: req.uid, allowed: true },
    };
  }
}

const WEBHOOK_NAME = 'validate.miniapps.dev';

/**
 * The name of the registration an operator makes for itself out of cluster: one per operator
 * namespace, so that a restart (even after a SIGKILL) replaces it instead of adding one.
 */
export function webhookRegistrationName(namespace: string): string {
  return `miniapps-operator-${namespace}`;
}

/**
 * The webhook that fails closed: the last-administrator rule (membershipValidator) for
 * exactly the requests that could break it, so it holds while no operator answers (the
 * API server then refuses them, naming this webhook). A policy cannot state it (it needs
 * "another active administrator exists"; docs/closed-rules.md).
 */
export const LAST_ADMINISTRATOR_WEBHOOK = 'last-administrator.miniapps.dev';

/** CEL: the Membership `m` (object or oldObject) is an active OrganizationAdministrator, as domain/members.ts isActiveAdministrator; `accepted` says whether it was accepted. */
const activeAdministrator = (m: string, accepted: string) =>
  `${m}.spec.role == 'OrganizationAdministrator' && !${m}.spec.?suspended.orValue(false) && (${m}.spec.?acceptance.orValue('Required') == 'Automatic' || ${accepted})`;

/**
 * The requests the fail-closed webhook is asked about (its matchConditions): an active
 * administrator's Membership deleted, or changed so that it is no longer one (demoted,
 * suspended, acceptance back to Required before it was accepted); never by the cluster's
 * own controllers (every ServiceAccount of kube-system: the namespace controller deletes
 * what a deleted namespace holds, the garbage collector what lost its owner; and
 * `system:kube-controller-manager`, the identity those controllers act as when
 * kube-controller-manager runs without --use-service-account-credentials), nor by the
 * operator itself (`operatorUser`, when known). Every other Membership write is not sent
 * to it, and goes ahead whether or not the operator runs.
 */
export function lastAdministratorMatchConditions(operatorUser?: string): { name: string; expression: string }[] {
  const accepted = `oldObject.?status.?acceptedAt.hasValue()`;
  return [
    {
      name: 'removes-an-active-administrator',
      expression: `${activeAdministrator('oldObject', accepted)} && ` + `(request.operation == 'DELETE' || !(${activeAdministrator('object', accepted)}))`,
    },
    {
      name: 'not-the-cluster-controllers',
      expression: `!request.userInfo.username.startsWith('system:serviceaccount:kube-system:') && request.userInfo.username != 'system:kube-controller-manager'`,
    },
    ...(operatorUser ? [{ name: 'not-the-operator', expression: `request.userInfo.username != ${JSON.stringify(operatorUser)}` }] : []),
  ];
}

/** The namespaces the fail-closed webhook never judges: the cluster's own and the operator's. */
export function lastAdministratorNamespaceSelector(operatorNamespace: string) {
  return { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'kube-public', 'kube-node-lease', 'default', operatorNamespace] }] };
}

/**
 * Registers the ValidatingWebhookConfiguration for the miniapps.dev resources that have
 * admission rules (`resources`, the modules' admits), as the Helm chart does in
 * cluster: a write of any other kind costs no call. failurePolicy Ignore: when the
 * operator is down the API stays usable and the reconcilers report what slipped past as a
 * False condition. With `failClosed`, a second webhook of the same registration asks the
 * same endpoint about the requests that could remove an organization's last active
 * administrator, with failurePolicy Fail: while no operator answers, those are refused.
 */
export async function registerWebhook(
  client: KubeClient,
  opts: { name: string; url: string; caBundlePEM: string; resources: readonly string[]; failClosed?: { operatorNamespace: string; operatorUser?: string } },
): Promise<void> {
  const clientConfig = { url: opts.url, caBundle: Buffer.from(opts.caBundlePEM).toString('base64') };
  await client.apply(Resources.ValidatingWebhookConfiguration, {
    metadata: { name: opts.name, labels: { 'app.kubernetes.io/managed-by': 'miniapps-operator' } },
    webhooks: [
      {
        name: WEBHOOK_NAME,
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        failurePolicy: 'Ignore',
        matchPolicy: 'Equivalent',
        timeoutSeconds: 5,
        clientConfig,
        rules: [{ apiGroups: ['miniapps.dev'], apiVersions: ['*'], resources: [...opts.resources], operations: ['CREATE', 'UPDATE', 'DELETE'], scope: '*' }],
      },
      ...(opts.failClosed
        ? [
            {
              name: LAST_ADMINISTRATOR_WEBHOOK,
              admissionReviewVersions: ['v1'],
              sideEffects: 'None',
              failurePolicy: 'Fail',
              matchPolicy: 'Equivalent',
              timeoutSeconds: 5,
              clientConfig,
              namespaceSelector: lastAdministratorNamespaceSelector(opts.failClosed.operatorNamespace),
              matchConditions: lastAdministratorMatchConditions(opts.failClosed.operatorUser),
              rules: [{ apiGroups: ['miniapps.dev'], apiVersions: ['*'], resources: ['memberships'], operations: ['UPDATE', 'DELETE'], scope: 'Namespaced' }],
            },
          ]
        : []),
    ],
  });
}

interface RegistrationLike {
  metadata: { uid?: string; resourceVersion?: string };
  webhooks?: { name: string; clientConfig?: { url?: string; caBundle?: string } }[];
}

/**
 * Deletes the registration made by registerWebhook, but only while it still calls this
 * process (same URL and CA): another operator of the namespace may have replaced it since,
 * and its registration must stay. The delete is conditional on the uid and resourceVersion
 * read, so a replacement between the read and the delete survives too. Returns whether it
 * deleted.
 */
export async function unregisterWebhook(client: KubeClient, opts: { name: string; url: string; caBundlePEM: string }): Promise<boolean> {
  const current = await client.get<RegistrationLike>(Resources.ValidatingWebhookConfiguration, opts.name);
  const hooks = current?.webhooks ?? [];
  const bundle = Buffer.from(opts.caBundlePEM).toString('base64');
  const ours =
    hooks.length > 0 &&
    hooks[0].name === WEBHOOK_NAME &&
    hooks.every((h, i) => (i === 0 || h.name === LAST_ADMINISTRATOR_WEBHOOK) && h.clientConfig?.url === opts.url && h.clientConfig.caBundle === bundle);
  if (!current || !ours) return false;
  try {
    return await client.delete(Resources.ValidatingWebhookConfiguration, opts.name, undefined, { uid: current.metadata.uid, resourceVersion: current.metadata.resourceVersion });
  } catch (err) {
    if (isConflict(err)) return false; // replaced since the read
    throw err;
  }
}
