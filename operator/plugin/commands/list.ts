// kubectl miniapps list
import type { Command } from 'commander';
import type { CommandEnv } from '../core.ts';
import { outputOption } from '../core.ts';
import { allNamespacesOption, categoryOption, miniApps, printMiniApps } from '../miniapps.ts';
import type { MiniAppListOptions } from '../miniapps.ts';

export function list(program: Command, env: CommandEnv): Command {
  return program
    .command('list')
    .summary('mini apps with their organization, type, categories and where each stands in its super apps')
    .usage('[--category C] [-n NS | -A] [-o wide|yaml|json]')
    .addOption(categoryOption())
    .addOption(allNamespacesOption())
    .addOption(outputOption(['wide', 'yaml', 'json']))
    .action((opts: MiniAppListOptions) => env.run(async (ctx) => printMiniApps(await miniApps(opts, ctx), opts, ctx)));
}
