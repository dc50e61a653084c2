// kubectl miniapps login --issuer URL [--device]: signs in and writes a kubeconfig user
// (operator/plugin/login-command.ts). Needs no kubeconfig user: it never connects to the cluster.
import { Option } from 'commander';
import type { Command } from 'commander';
import type { CommandEnv } from '../core.ts';
import { DEFAULT_CLIENT_ID } from '../login.ts';
import { loginCommand, loginFlags } from '../login-command.ts';
import type { LoginOptions } from '../login-command.ts';

export function login(program: Command, env: CommandEnv): Command {
  const cmd = program
    .command('login')
    .summary('signs in to the platform and sets up kubectl to use your own identity')
    .description(
      "signs in to the platform and sets up kubectl to use your own identity: with your browser (a page on 127.0.0.1 takes the answer) or, with --device, with a code you enter in any browser; then writes the kubeconfig user NAME (--user, default miniapps) whose exec plugin, kubectl miniapps get-token, gives kubectl a fresh ID token, and points the context (--context, default: the current one) of the kubeconfig (--kubeconfig, default: KUBECONFIG's first file, then ~/.kube/config) at it. Tokens are kept in ~/.kube/cache/miniapps (mode 0600)",
    )
    .usage('--issuer URL [--device] [--certificate-authority FILE] [--client-id ID] [--user NAME] [--context NAME] [--kubeconfig PATH] [--no-browser]')
    .addOption(new Option('--issuer <URL>', 'the identity provider (the invitation page says which)'))
    .addOption(new Option('--device', 'sign in with a code on another device (no browser here)'))
    .addOption(new Option('--certificate-authority <FILE>', "the CA of the issuer's certificate, when it is not publicly trusted"))
    .addOption(new Option('--client-id <ID>', `the OpenID Connect client (default ${DEFAULT_CLIENT_ID})`))
    .addOption(new Option('--user <NAME>', 'the kubeconfig user to write (default miniapps)'))
    .addOption(new Option('--no-browser', 'print the sign-in address instead of opening a browser'))
    .addOption(new Option('--exec-command <CMD>', 'the exec plugin command written (default "kubectl miniapps")'))
    .addOption(new Option('--cache-dir <DIR>', 'where tokens are kept (default ~/.kube/cache/miniapps)').hideHelp());
  return cmd.action(() => {
    // --kubeconfig and --context are kubectl's global flags (the program's): here, the kubeconfig written and the context pointed at the user.
    const flags = loginFlags(cmd.optsWithGlobals<LoginOptions>());
    return env.runOffline(() => loginCommand(flags, env.io));
  });
}
