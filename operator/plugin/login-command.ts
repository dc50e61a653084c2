// `kubectl miniapps login` and `kubectl miniapps get-token` (the exec credential plugin it
// writes into the kubeconfig). The commands (commands/login.ts, commands/get-token.ts)
// declare the flags; here they are completed, validated (before any network call) and run.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CLIENT_ID, browserLogin, currentToken, deviceLogin, discover, execCredential, execUser, tokenCachePath, writeKubeconfigUser, writeTokens } from './login.ts';
import { EXIT, UsageError } from './core.ts';
import type { PluginIO } from './core.ts';

export interface LoginOptions {
  issuer?: string;
  device?: boolean;
  certificateAuthority?: string;
  clientId?: string;
  user?: string;
  /** The global --context and --kubeconfig: the context to point at the user, the kubeconfig to write. */
  context?: string;
  kubeconfig?: string;
  /** --no-browser (commander: browser false). */
  browser?: boolean;
  execCommand?: string;
  cacheDir?: string;
}

interface LoginFlags {
  issuer: string;
  clientId: string;
  caFile?: string;
  caPEM?: string;
  device: boolean;
  user: string;
  context?: string;
  kubeconfig: string;
  browser: boolean;
  execCommand: string[];
  cacheDir?: string;
}

/** Complete and validate login's flags (as commander parsed them): every problem is found before the network is touched. */
export function loginFlags(v: LoginOptions, env: NodeJS.ProcessEnv = process.env): LoginFlags {
  if (!v.issuer) throw new UsageError('--issuer is required (the invitation page and docs/identity.md say which)');
  let url: URL;
  try {
    url = new URL(v.issuer);
  } catch {
    throw new UsageError(`--issuer must be a URL, not ${v.issuer}`);
  }
  if (url.protocol !== 'https:') throw new UsageError('--issuer must be an https:// URL');
  const kubeconfig = v.kubeconfig ?? env.KUBECONFIG?.split(':').find(Boolean) ?? join(homedir(), '.kube', 'config');
  return {
    issuer: v.issuer.replace(/\/$/, ''),
    clientId: v.clientId ?? DEFAULT_CLIENT_ID,
    caFile: v.certificateAuthority,
    caPEM: readCA(v.certificateAuthority),
    device: !!v.device,
    user: v.user ?? 'miniapps',
    context: v.context,
    kubeconfig,
    browser: v.browser !== false,
    execCommand: (v.execCommand ?? 'kubectl miniapps').split(' ').filter(Boolean),
    cacheDir: v.cacheDir,
  };
}

/** The CA file's PEM, read before any network call. */
function readCA(file: string | undefined): string | undefined {
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--certificate-authority: ${(err as Error).message}`);
  }
}

/** What the identity provider said, in one line: openid-client's errors carry the provider's own words in error / error_description. */
export function describeSignInError(err: unknown): string {
  const e = err as { message?: string; error?: string; error_description?: string; cause?: { error?: string; error_description?: string; code?: string; message?: string } };
  const said = e.error_description ?? e.cause?.error_description ?? e.error ?? e.cause?.error ?? e.cause?.code ?? e.cause?.message;
  return `error: ${e.message ?? String(err)}${said ? ` (${said})` : ''}\n`;
}

/** Runs `work`; a failure is one line on stderr with what the provider said, and exit 1. */
async function signInErrors(io: PluginIO, work: () => Promise<number>): Promise<number> {
  try {
    return await work();
  } catch (err) {
    io.err(describeSignInError(err));
    return EXIT.error;
  }
}

function openBrowser(url: string): void {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  execFile(cmd, [url], () => {});
}

/** Runs login with checked flags (loginFlags); returns the exit code. */
export function loginCommand(flags: LoginFlags, io: PluginIO): Promise<number> {
  return signInErrors(io, async () => {
    const o = { issuer: flags.issuer, clientId: flags.clientId, caPEM: flags.caPEM };
    const config = await discover(o);
    const tokens = flags.device
      ? await deviceLogin(config, {
          show: (d) =>
            io.err(
              `Open ${d.verificationUriComplete ?? d.verificationUri} in a browser${d.verificationUriComplete ? '' : ` and enter the code ${d.userCode}`} (code ${d.userCode}, valid ${Math.round(d.expiresIn / 60)} minutes).\n`,
            ),
        })
      : await browserLogin(config, {
          open: (url) => {
            io.err(`Sign in at: ${url}\n`);
            if (flags.browser) openBrowser(url);
          },
        });
    writeTokens(tokenCachePath(o, flags.cacheDir), tokens);
    const written = writeKubeconfigUser(flags.kubeconfig, flags.user, execUser({ ...o, caFile: flags.caFile, cacheDir: flags.cacheDir }, flags.execCommand), flags.context);
    io.out(
      `Signed in. The kubeconfig ${flags.kubeconfig} has the user ${flags.user}${written.context ? `, used by the context ${written.context}` : ' (point a context at it: kubectl config set-context --current --user ' + flags.user + ')'}.\nTry: kubectl auth whoami\n`,
    );
    return EXIT.ok;
  });
}

export interface GetTokenOptions {
  issuer?: string;
  clientId?: string;
  certificateAuthority?: string;
  cacheDir?: string;
}

/** The exec credential plugin: prints an ExecCredential with a valid ID token (and nothing else on stdout), refreshing it when needed. */
export function getTokenCommand(v: GetTokenOptions, io: PluginIO): () => Promise<number> {
  if (!v.issuer) throw new UsageError('--issuer is required');
  const o = { issuer: v.issuer, clientId: v.clientId ?? DEFAULT_CLIENT_ID, caPEM: readCA(v.certificateAuthority) };
  return () =>
    signInErrors(io, async () => {
      const tokens = await currentToken(o, tokenCachePath(o, v.cacheDir));
      io.out(execCredential(tokens));
      return EXIT.ok;
    });
}
