// A real SMTP server on loopback for tests (smtp-server). It records a message only when the
// client finished DATA with the final dot: smtp-server destroys the data stream of a connection
// that closes mid-DATA without ever emitting 'end', and such a transaction is counted in
// `aborted`, never in `messages` (that is what a real server does: no dot, no delivery).

import { SMTPServer } from 'smtp-server';
import type { SMTPServerDataStream, SMTPServerOptions } from 'smtp-server';

export interface ReceivedMessage {
  /** Envelope sender (MAIL FROM). */
  from: string;
  /** Envelope recipients (RCPT TO). */
  to: string[];
  messageId: string;
  subject: string;
  /** Header names in lower case, folded lines joined, encoded words decoded. */
  headers: Record<string, string>;
  /** The text/plain part (or the body of a single-part message), decoded. */
  text: string;
  /** The text/html part, decoded, when there is one. */
  html?: string;
  raw: string;
  /** When the final dot arrived (ms since the epoch). */
  receivedAt: number;
}

export interface TestSmtpServerOptions {
  /** Require AUTH (PLAIN or LOGIN, over plain text) with these credentials. */
  auth?: { username: string; password: string };
  /** 0 (default) picks a free port. */
  port?: number;
}

export class TestSmtpServer {
  readonly host = '127.0.0.1';
  port: number;
  /** Messages completed with the final dot, in order. */
  readonly messages: ReceivedMessage[] = [];
  /** Transactions whose connection went away during DATA, before the final dot. */
  aborted = 0;
  private readonly auth?: { username: string; password: string };
  private readonly refused = new Set<string>();
  private server?: SMTPServer;
  private waiters: (() => void)[] = [];
  /** RCPT TO answers held back by holdRecipients(), until releaseRecipients(). */
  private holding = false;
  private held: (() => void)[] = [];

  private constructor(opts: TestSmtpServerOptions) {
    this.auth = opts.auth;
    this.port = opts.port ?? 0;
  }

  static async start(opts: TestSmtpServerOptions = {}): Promise<TestSmtpServer> {
    const s = new TestSmtpServer(opts);
    await s.start();
    return s;
  }

  /** Starts (again) listening, on the same port as before. */
  async start(): Promise<void> {
    if (this.server) return;
    const server = new SMTPServer(this.options());
    server.on('error', () => {}); // connection-level errors; the client sees them
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(this.port, this.host, () => {
        server.server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.server.address() as { port: number }).port;
    this.server = server;
  }

  /** Stops listening and drops open connections: clients get "connection refused" until start(). */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const c of server.connections) c.close();
    });
  }

  /** Answers 550 to RCPT TO for this address from now on. */
  refuse(address: string): void {
    this.refused.add(address.toLowerCase());
  }

  /**
   * Holds back every answer to RCPT TO from now on: clients wait in the middle of their
   * transaction, before DATA, with nothing delivered yet (work in flight).
   */
  holdRecipients(): void {
    this.holding = true;
  }

  /** How many clients wait for their RCPT TO answer now. */
  get heldRecipients(): number {
    return this.held.length;
  }

  /** Answers the held RCPT TOs (to clients still connected) and holds no more. */
  releaseRecipients(): void {
    this.holding = false;
    for (const answer of this.held.splice(0)) answer();
  }

  clear(): void {
    this.messages.length = 0;
    this.aborted = 0;
  }

  /** Resolves once at least n messages arrived (all of them), or rejects after timeoutMs. */
  async waitFor(n: number, timeoutMs = 10_000): Promise<ReceivedMessage[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length < n) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `Timed out after ${timeoutMs} ms waiting for ${n} message(s); received ${this.messages.length}: ${this.messages.map((m) => `${m.to.join(',')} "${m.subject}"`).join('; ') || 'none'}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return [...this.messages];
  }

  private options(): SMTPServerOptions {
    const auth = this.auth;
    return {
      logger: false,
      disabledCommands: auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
      authOptional: !auth,
      allowInsecureAuth: true,
      closeTimeout: 1000,
      onAuth: (a, _session, callback) => {
        if (auth && a.username === auth.username && a.password === auth.password) return callback(null, { user: a.username });
        callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
      },
      onRcptTo: (address, _session, callback) => {
        if (this.refused.has(address.address.toLowerCase())) return callback(Object.assign(new Error('No such user here'), { responseCode: 550 }));
        if (this.holding) return void this.held.push(() => callback());
        callback();
      },
      onData: (stream: SMTPServerDataStream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('error', () => {}); // the client went away mid-DATA: counted on 'close'
        stream.on('close', () => {
          if (!stream.readableEnded) this.aborted++;
        });
        stream.on('end', () => {
          const envelope = session.envelope;
          const from = envelope.mailFrom ? envelope.mailFrom.address : '';
          this.record(
            from,
            envelope.rcptTo.map((r) => r.address),
            Buffer.concat(chunks).toString('utf8'),
          );
          callback(null, 'OK: message queued');
        });
      },
    };
  }

  private record(from: string, to: string[], raw: string): void {
    const part = parsePart(raw);
    const text = findPart(part, 'text/plain') ?? (part.contentType.startsWith('multipart/') ? '' : part.body);
    this.messages.push({
      from,
      to,
      messageId: part.headers['message-id'] ?? '',
      subject: part.headers.subject ?? '',
      headers: part.headers,
      text,
      html: findPart(part, 'text/html'),
      raw,
      receivedAt: Date.now(),
    });
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

// A small MIME reader: enough for what nodemailer writes (multipart, quoted-printable, base64).

interface Part {
  headers: Record<string, string>;
  contentType: string;
  body: string;
  parts: Part[];
}

function parsePart(raw: string): Part {
  const split = raw.search(/\r?\n\r?\n/);
  const head = split < 0 ? raw : raw.slice(0, split);
  const rawBody = split < 0 ? '' : raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = decodeWords(line.slice(colon + 1).trim());
  }
  const type = headers['content-type'] ?? 'text/plain';
  const contentType = type.split(';')[0].trim().toLowerCase();
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (contentType.startsWith('multipart/') && boundary) {
    const sections = rawBody.split(`--${boundary}`).slice(1);
    // The line break before a boundary belongs to the boundary (RFC 2046).
    const parts = sections.filter((s) => !s.startsWith('--')).map((s) => parsePart(s.replace(/^\r?\n/, '').replace(/\r?\n$/, '')));
    return { headers, contentType, body: '', parts };
  }
  return { headers, contentType, body: decodeBody(rawBody, headers['content-transfer-encoding']), parts: [] };
}

function findPart(part: Part, type: string): string | undefined {
  if (part.contentType === type && part.parts.length === 0) return part.body;
  for (const p of part.parts) {
    const found = findPart(p, type);
    if (found !== undefined) return found;
  }
  return undefined;
}

function decodeBody(body: string, encoding = '7bit'): string {
  switch (encoding.toLowerCase()) {
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    case 'quoted-printable':
      return decodeQuotedPrintable(body.replace(/=\r?\n/g, ''));
    default:
      return body;
  }
}

function decodeQuotedPrintable(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(s[i], 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** RFC 2047 encoded words, as in `Subject: =?UTF-8?Q?Caf=C3=A9?=`. */
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_m, _charset: string, enc: string, text: string) =>
      enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : decodeQuotedPrintable(text.replace(/_/g, ' ')),
    );
}
