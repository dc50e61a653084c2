// SMTP delivery that makes "exactly one email per invitation" possible.
//
// An SMTP server takes responsibility for a message only when it receives the final
// `<CRLF>.<CRLF>` of DATA and answers 250; a connection that ends before that delivers nothing.
// Mailer.send therefore opens the whole transaction (MAIL FROM, RCPT TO, DATA and the complete
// message), then calls `commit()` (where the caller records "sent" in the Membership's status)
// and sends the final dot only once commit has resolved:
//   - a crash or failure before commit resolves: the dot is never sent, nothing is delivered,
//     nothing is recorded, and the next attempt sends it again;
//   - commit resolved: the status says sent, so no later attempt sends again, even when the
//     process dies before or right after the dot.
// The one loss this allows (commit recorded, then the server or the network failed at the dot)
// is reported by the result's `accepted: false`, never thrown: the caller records the outcome
// and must not resend on its own. At most once, and in practice exactly once.
//
// A `signal` (the reconcile's, which the Manager aborts when this process loses the lease)
// ends the transaction at once: wherever it is, the connection closes before the final dot,
// so nothing is delivered, and send rejects with the signal's reason. Once the dot is out,
// the server's answer is awaited as usual.

import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import type MailComposer from 'nodemailer/lib/mail-composer';
import type SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { Config } from '../config.ts';
import type { KubeClient } from '../kube/client.ts';
import { Resources } from '../kube/resource.ts';

export interface MailerConfig {
  host: string;
  port: number;
  /** none: plain SMTP; starttls: upgrade required (fails when not offered); tls: implicit TLS (usually port 465). */
  security: 'none' | 'starttls' | 'tls';
  username?: string;
  password?: string;
  /** From address of the emails. */
  from: string;
  /** Verify the server's certificate (default true). */
  rejectUnauthorized?: boolean;
  /** Connecting, and then each wait for the server, at most this long (default 30 s). */
  connectionTimeoutMs?: number;
}

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** With angle brackets: `<invitation.uid.1@miniapps.dev>`. */
  messageId: string;
  headers?: Record<string, string>;
}

export interface SendResult {
  /** The server answered the final dot with 2xx: it took the message. */
  accepted: boolean;
  /** The server's last answer, or what went wrong after commit. */
  response: string;
}

/** The server refused the message for good (5xx), e.g. an unknown recipient. commit() was not called. */
export class MailRejected extends Error {
  /** The SMTP reply code, e.g. 550. */
  readonly responseCode: number;
  constructor(responseCode: number, message: string) {
    super(message);
    this.name = 'MailRejected';
    this.responseCode = responseCode;
  }
}

/** The mail server could not be used right now (unreachable, timeout, TLS, login, a 4xx answer); worth retrying. commit() was not called. */
export class MailUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MailUnavailable';
  }
}

export interface SmtpCredentials {
  username: string;
  password: string;
}

/** Where credentials come from when they are not in the config (fromSecret reads them per send, so rotation needs no restart). */
export type CredentialsSource = (signal?: AbortSignal) => Promise<SmtpCredentials | undefined>;

interface SmtpError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
}

interface SecretLike {
  metadata: { name?: string };
  data?: Record<string, string>;
}

const DEFAULT_TIMEOUT_MS = 30_000;

const require = createRequire(import.meta.url);
let loaded: { MailComposer: typeof MailComposer; SMTPConnection: typeof SMTPConnection } | undefined;

/**
 * nodemailer, loaded with the first email: an operator without an SMTP server never loads
 * it (it is about 15 MB of RSS). Its CommonJS build: the ESM one imports node:http as ESM,
 * which loads undici (see runtime/builtins.ts).
 */
function nodemailer(): NonNullable<typeof loaded> {
  return (loaded ??= {
    MailComposer: require('nodemailer/lib/mail-composer') as typeof MailComposer,
    SMTPConnection: require('nodemailer/lib/smtp-connection') as typeof SMTPConnection,
  });
}

export class Mailer {
  private readonly config: MailerConfig;
  private readonly credentials: CredentialsSource;

  constructor(config: MailerConfig, credentials?: CredentialsSource) {
    this.config = config;
    const { username, password } = config;
    this.credentials = credentials ?? (async () => (username ? { username, password: password ?? '' } : undefined));
  }

  /**
   * The operator's SMTP server (--smtp-host, --smtp-port, --smtp-security, --smtp-from, its
   * credentials from --smtp-credentials-secret), which invitations, password resets and
   * set-password emails share; undefined without --smtp-host.
   */
  static fromConfig(cfg: Pick<Config, 'smtpHost' | 'smtpPort' | 'smtpSecurity' | 'smtpFrom' | 'smtpCredentialsSecret'>, client: KubeClient): Mailer | undefined {
    if (!cfg.smtpHost) return undefined;
    const config = { host: cfg.smtpHost, port: cfg.smtpPort, security: cfg.smtpSecurity, from: cfg.smtpFrom };
    return cfg.smtpCredentialsSecret ? Mailer.fromSecret(client, cfg.smtpCredentialsSecret, config) : new Mailer(config);
  }

  /** A mailer that authenticates with the keys `username` and `password` of a Secret, read at each send. */
  static fromSecret(client: KubeClient, secret: { namespace: string; name: string }, config: Omit<MailerConfig, 'username' | 'password'>): Mailer {
    const where = `${secret.namespace}/${secret.name}`;
    return new Mailer(config, async (signal) => {
      let found: SecretLike | undefined;
      try {
        found = await (signal ? client.withSignal(signal) : client).get<SecretLike>(Resources.Secret, secret.name, secret.namespace);
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        throw new MailUnavailable(`Could not read the SMTP credentials Secret ${where}: ${(err as Error).message}`);
      }
      if (!found) throw new MailUnavailable(`The SMTP credentials Secret ${where} does not exist`);
      const value = (key: string) => (found.data?.[key] === undefined ? undefined : Buffer.from(found.data[key], 'base64').toString('utf8'));
      const username = value('username');
      const password = value('password');
      if (!username || password === undefined) throw new MailUnavailable(`The SMTP credentials Secret ${where} must have the keys username and password`);
      return { username, password };
    });
  }

  /**
   * Sends one message, calling `commit` after the server has taken everything but the final
   * dot (see the top of this file). Without `commit` the dot follows at once (plain
   * delivery: the Membership controller records "sent" after the server accepted). Throws MailRejected or MailUnavailable before commit, and
   * commit's own error (after aborting the transaction so nothing is delivered); once commit
   * has resolved it no longer throws. When `signal` aborts before the final dot, the
   * transaction ends there (nothing delivered) and send throws the signal's reason.
   */
  async send(msg: MailMessage, commit: () => Promise<void> = async () => {}, signal?: AbortSignal): Promise<SendResult> {
    signal?.throwIfAborted();
    const raw = await new (nodemailer().MailComposer)({
      from: this.config.from,
      to: msg.to,
      subject: msg.subject,
      text: msg.text,
      html: msg.html,
      messageId: msg.messageId,
      headers: msg.headers,
      xMailer: false,
    })
      .compile()
      .build();
    const credentials = await this.credentials(signal);
    const aborted = whenAborted(signal);
    try {
      const { conn, lost } = await this.connect(aborted.promise);
      try {
        if (credentials) await Promise.race([login(conn, credentials, this.where()), lost.then((err) => Promise.reject(unavailable(err, this.where()))), aborted.promise]);
        return await this.transact(conn, lost, msg.to, raw, commit, signal, aborted.promise);
      } finally {
        conn.close();
      }
    } finally {
      aborted.dispose();
    }
  }

  private where(): string {
    return `${this.config.host}:${this.config.port}`;
  }

  /** An open connection, and a promise of the error that ends it (a timeout, a dropped socket). */
  private connect(aborted: Promise<never>): Promise<{ conn: SMTPConnection; lost: Promise<SmtpError> }> {
    const c = this.config;
    const timeout = c.connectionTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    const conn = new (nodemailer().SMTPConnection)({
      host: c.host,
      port: c.port,
      secure: c.security === 'tls',
      requireTLS: c.security === 'starttls',
      ignoreTLS: c.security === 'none',
      tls: { rejectUnauthorized: c.rejectUnauthorized ?? true },
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: 2 * timeout,
      socketCloseTimeout: 1000,
      logger: false,
    });
    // Failures arrive as 'error' events, not always through the callbacks (a refused
    // connection never calls connect's); without a listener an 'error' event would be thrown.
    let connected = false;
    let onLost!: (err: SmtpError) => void;
    const lost = new Promise<SmtpError>((resolve) => (onLost = resolve));
    return new Promise((resolve, reject) => {
      conn.on('error', (err: SmtpError) => {
        if (connected) return onLost(err);
        conn.close();
        reject(unavailable(err, this.where()));
      });
      conn.connect(() => {
        connected = true;
        resolve({ conn, lost });
      });
      aborted.catch((reason: unknown) => {
        if (connected) return; // send closes it
        conn.close();
        reject(reason);
      });
    });
  }

  private async transact(
    conn: SMTPConnection,
    lost: Promise<SmtpError>,
    to: string,
    raw: Buffer,
    commit: () => Promise<void>,
    signal: AbortSignal | undefined,
    aborted: Promise<never>,
  ): Promise<SendResult> {
    // The message is handed over only when smtp-connection reads it, which it does after the
    // server answered DATA with 354: the first read() means the envelope was accepted. The
    // stream ends (and smtp-connection writes the final dot) only after commit.
    let envelopeAccepted!: () => void;
    const readyForData = new Promise<'ready'>((resolve) => (envelopeAccepted = () => resolve('ready')));
    let started = false;
    const message = new Readable({
      read() {
        if (started) return;
        started = true;
        this.push(raw);
        envelopeAccepted();
      },
    });
    const finished = Promise.race([
      new Promise<{ err: SmtpError | null; response?: string }>((resolve) =>
        conn.send({ from: this.config.from, to }, message, (err, info) => resolve({ err: err as SmtpError | null, response: info?.response })),
      ),
      lost.then((err): { err: SmtpError | null; response?: string } => ({ err })),
    ]);

    // Aborted before the envelope is through: send closes the connection, long before any dot.
    const first = await Promise.race([readyForData, finished, aborted]);
    if (first !== 'ready') throw classify(first.err ?? new Error('The server ended the transaction early'), this.where());

    try {
      const committed = commit();
      committed.catch(() => {}); // an abort may win the race; commit's own failure is not lost then
      await Promise.race([committed, aborted]);
      signal?.throwIfAborted();
    } catch (err) {
      // Abort without the final dot: the stream errors (smtp-connection stops the message and
      // never writes the dot) and the connection is dropped, which makes the server discard it.
      message.destroy(new Error(signal?.aborted ? 'Sending aborted: signal' : 'Sending aborted: commit failed'));
      conn.close();
      throw err;
    }
    message.push(null);
    const { err, response } = await finished;
    if (err) return { accepted: false, response: describeFailure(err) };
    conn.quit();
    return { accepted: true, response: response ?? '' };
  }
}

/** A promise that rejects with the signal's reason when it aborts (never, without one); raced, never unhandled. */
function whenAborted(signal: AbortSignal | undefined): { promise: Promise<never>; dispose: () => void } {
  if (!signal) return { promise: new Promise<never>(() => {}), dispose: () => {} };
  let onAbort = () => {};
  const promise = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  promise.catch(() => {});
  return { promise, dispose: () => signal.removeEventListener('abort', onAbort) };
}

function login(conn: SMTPConnection, credentials: SmtpCredentials, where: string): Promise<void> {
  return new Promise((resolve, reject) => {
    conn.login({ user: credentials.username, pass: credentials.password }, (err) => {
      if (!err) return resolve();
      const e = err as SmtpError;
      // Only the code: the server's answer to AUTH is no place to risk an echo of the credentials.
      reject(new MailUnavailable(`The mail server at ${where} refused the SMTP login${e.responseCode ? ` (${e.responseCode})` : ''}; check the credentials Secret`));
    });
  });
}

/** A failure before commit, as MailRejected (permanent refusal) or MailUnavailable. */
function classify(err: SmtpError, where: string): Error {
  if (err.responseCode && err.responseCode >= 500 && (err.code === 'EENVELOPE' || err.code === 'EMESSAGE')) {
    return new MailRejected(err.responseCode, `The mail server at ${where} refused the message at ${err.command ?? 'the envelope'}: ${serverAnswer(err)}`);
  }
  return unavailable(err, where);
}

function unavailable(err: SmtpError, where: string): MailUnavailable {
  return new MailUnavailable(`The mail server at ${where} could not be used: ${describeFailure(err)}`);
}

function describeFailure(err: SmtpError): string {
  return err.response ? serverAnswer(err) : `${err.code ? `${err.code}: ` : ''}${err.message}`;
}

function serverAnswer(err: SmtpError): string {
  return (err.response ?? err.message).replace(/\s+/g, ' ').trim().slice(0, 300);
}
