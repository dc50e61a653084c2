// kubectl miniapps get-token --issuer URL: the exec credential plugin that login writes into
// the kubeconfig (operator/plugin/login-command.ts). Prints only the ExecCredential JSON on
// stdout; needs no kubeconfig user and never connects to the cluster.
import { Option } from 'commander';
import type { Command } from 'commander';
import type { CommandEnv } from '../core.ts';
import { DEFAULT_CLIENT_ID } from '../login.ts';
import { getTokenCommand } from '../login-command.ts';
import type { GetTokenOptions } from '../login-command.ts';

export function getToken(program: Command, env: CommandEnv): Command {
  const cmd = program
    .command('get-token')
    .summary("prints an ExecCredential with a valid ID token (kubectl's exec credential plugin, written by login)")
    .description(
      "prints an ExecCredential with a valid ID token, refreshing it when needed: kubectl's exec credential plugin, which login writes into the kubeconfig (run kubectl miniapps login again when the session has ended)",
    )
    .usage('--issuer URL [--client-id ID] [--certificate-authority FILE]')
    .addOption(new Option('--issuer <URL>', 'the identity provider'))
    .addOption(new Option('--client-id <ID>', `the OpenID Connect client (default ${DEFAULT_CLIENT_ID})`))
    .addOption(new Option('--certificate-authority <FILE>', "the CA of the issuer's certificate, when it is not publicly trusted"))
    .addOption(new Option('--cache-dir <DIR>', 'where tokens are kept (default ~/.kube/cache/miniapps)').hideHelp());
  return cmd.action((opts: GetTokenOptions) => env.runOffline(getTokenCommand(opts, env.io)));
}
