// `kubectl miniapps login` and `kubectl miniapps get-token` (the exec credential plugin it
// writes into the kubeconfig). Complete (flags), validate (before any network call), run.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_CLIENT_ID, browserLogin, currentToken, deviceLogin, discover, execCredential, execUser, tokenCachePath, writeKubeconfigUser, writeTokens } from './login.ts';
import type { PluginIO } from './plugin.ts';

export const LOGIN_USAGE = `kubectl miniapps login: sign in to the platform and set up kubectl to use your own identity.

Usage:
  kubectl miniapps login --issuer URL [--device] [--certificate-authority FILE] [--client-id ID] [--user NAME] [--context NAME] [--kubeconfig PATH] [--no-browser]

  Signs in with your browser (a page on 127.0.0.1 takes the answer) or, with --device, with a code you enter
  on any device's browser; then writes the kubeconfig user NAME (default miniapps) whose exec plugin,
  kubectl miniapps get-token, gives kubectl a fresh ID token, and points the context (default: the
  current one) at it. Tokens are kept in ~/.kube/cache/miniapps (mode 0600).

Flags:
      --issuer URL                  the identity provider (the invitation page says which)
      --device                      sign in with a code on another device (no browser here)
      --certificate-authority FILE  the CA of the issuer's certificate, when it is not publicly trusted
      --client-id ID                the OpenID Connect client (default ${DEFAULT_CLIENT_ID})
      --user NAME                   the kubeconfig user to write (default miniapps)
      --context NAME                the kubeconfig context to point at it (default: the current one)
      --kubeconfig PATH             the kubeconfig (default: KUBECONFIG's first file, then ~/.kube/config)
      --no-browser                  print the sign-in address instead of opening a browser
      --exec-command CMD            the exec plugin command written (default "kubectl miniapps")`;

const OPTIONS = {
  issuer: { type: 'string' },
  device: { type: 'boolean' },
  'certificate-authority': { type: 'string' },
  'client-id': { type: 'string' },
  user: { type: 'string' },
  context: { type: 'string' },
  kubeconfig: { type: 'string' },
  'no-browser': { type: 'boolean' },
  'exec-command': { type: 'string' },
  'cache-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

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

class UsageError extends Error {}

/** Complete and validate: every problem is found before the network is touched. */
export function loginFlags(argv: string[], env: NodeJS.ProcessEnv = process.env): LoginFlags | 'help' {
  let v: ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; allowPositionals: false; strict: true }>>['values'];
  try {
    v = parseArgs({ args: argv, options: OPTIONS, allowPositionals: false, strict: true }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (v.help) return 'help';
  if (!v.issuer) throw new UsageError('--issuer is required (the invitation page and docs/identity.md say which)');
  let url: URL;
  try {
    url = new URL(v.issuer);
  } catch {
    throw new UsageError(`--issuer must be a URL, not ${v.issuer}`);
  }
  if (url.protocol !== 'https:') throw new UsageError('--issuer must be an https:// URL');
  let caPEM: string | undefined;
  if (v['certificate-authority']) {
    try {
      caPEM = readFileSync(v['certificate-authority'], 'utf8');
    } catch (err) {
      throw new UsageError(`--certificate-authority: ${(err as Error).message}`);
    }
  }
  const kubeconfig = v.kubeconfig ?? env.KUBECONFIG?.split(':').find(Boolean) ?? join(homedir(), '.kube', 'config');
  return {
    issuer: v.issuer.replace(/\/$/, ''),
    clientId: v['client-id'] ?? DEFAULT_CLIENT_ID,
    caFile: v['certificate-authority'],
    caPEM,
    device: !!v.device,
    user: v.user ?? 'miniapps',
    context: v.context,
    kubeconfig,
    browser: !v['no-browser'],
    execCommand: (v['exec-command'] ?? 'kubectl miniapps').split(' ').filter(Boolean),
    cacheDir: v['cache-dir'],
  };
}

function openBrowser(url: string): void {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  execFile(cmd, [url], () => {});
}

/** Runs login; returns the exit code. */
export async function loginCommand(argv: string[], io: PluginIO): Promise<number> {
  let flags: LoginFlags | 'help';
  try {
    flags = loginFlags(argv);
  } catch (err) {
    io.err(`error: ${(err as Error).message}\n\n${LOGIN_USAGE}\n`);
    return 2;
  }
  if (flags === 'help') {
    io.out(`${LOGIN_USAGE}\n`);
    return 0;
  }
  const o = { issuer: flags.issuer, clientId: flags.clientId, caPEM: flags.caPEM };
  const config = await discover(o);
  const tokens = flags.device
    ? await deviceLogin(config, {
        show: (d) => io.err(`Open ${d.verificationUriComplete ?? d.verificationUri} in a browser${d.verificationUriComplete ? '' : ` and enter the code ${d.userCode}`} (code ${d.userCode}, valid ${Math.round(d.expiresIn / 60)} minutes).\n`),
      })
    : await browserLogin(config, {
        open: (url) => {
          io.err(`Sign in at: ${url}\n`);
          if (flags.browser) openBrowser(url);
        },
      });
  writeTokens(tokenCachePath(o, flags.cacheDir), tokens);
  const written = writeKubeconfigUser(flags.kubeconfig, flags.user, execUser({ ...o, caFile: flags.caFile, cacheDir: flags.cacheDir }, flags.execCommand), flags.context);
  io.out(`Signed in. The kubeconfig ${flags.kubeconfig} has the user ${flags.user}${written.context ? `, used by the context ${written.context}` : ' (point a context at it: kubectl config set-context --current --user ' + flags.user + ')'}.\nTry: kubectl auth whoami\n`);
  return 0;
}

/** The exec credential plugin: prints an ExecCredential with a valid ID token, refreshing it when needed. */
export async function getTokenCommand(argv: string[], io: PluginIO): Promise<number> {
  const options = { issuer: { type: 'string' }, 'client-id': { type: 'string' }, 'certificate-authority': { type: 'string' }, 'cache-dir': { type: 'string' } } as const;
  let v: { issuer?: string; 'client-id'?: string; 'certificate-authority'?: string; 'cache-dir'?: string };
  try {
    v = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    io.err(`error: ${(err as Error).message}\n`);
    return 2;
  }
  if (!v.issuer) {
    io.err('error: --issuer is required\n');
    return 2;
  }
  const o = { issuer: v.issuer, clientId: v['client-id'] ?? DEFAULT_CLIENT_ID, caPEM: v['certificate-authority'] ? readFileSync(v['certificate-authority'], 'utf8') : undefined };
  const tokens = await currentToken(o, tokenCachePath(o, v['cache-dir']));
  io.out(execCredential(tokens));
  return 0;
}
