// kubectl miniapps search TEXT
import type { Command } from 'commander';
import type { CommandEnv } from '../core.ts';
import { outputOption } from '../core.ts';
import { allNamespacesOption, categoryOption, miniApps, printMiniApps } from '../miniapps.ts';
import type { MiniAppListOptions } from '../miniapps.ts';

export function search(program: Command, env: CommandEnv): Command {
  return program
    .command('search')
    .summary('mini apps whose name, app name, domain, type, categories or locations contain TEXT (case-insensitive)')
    .argument('<TEXT>')
    .usage('TEXT [--category C] [-n NS | -A] [-o wide|yaml|json]')
    .addOption(categoryOption())
    .addOption(allNamespacesOption())
    .addOption(outputOption(['wide', 'yaml', 'json']))
    .action((text: string, opts: MiniAppListOptions) =>
      env.run(async (ctx) => {
        const t = text.toLowerCase();
        const hit = (m: Awaited<ReturnType<typeof miniApps>>[number]) =>
          [m.metadata.name, m.spec.appName, m.spec.domain ?? '', m.spec.type, ...(m.spec.categories ?? []), ...(m.spec.locations ?? [])].some((f) => f.toLowerCase().includes(t));
        return printMiniApps((await miniApps(opts, ctx)).filter(hit), opts, ctx);
      }),
    );
}
