// kubectl miniapps onboard ORG/SOLUTION (--tenants T1,T2 | --stack NAME)
import { Option } from 'commander';
import type { Command } from 'commander';
import type { Subscription } from '../../api/subscription/schema.ts';
import type { Tenant } from '../../api/tenant/schema.ts';
import { Kinds } from '../../api/registry.ts';
import { EXIT, orgRef } from '../core.ts';
import type { CommandEnv } from '../core.ts';

interface OnboardOptions {
  tenants?: string;
  stack?: string;
  version?: string;
  organization?: string;
}

export function onboard(program: Command, env: CommandEnv): Command {
  const cmd = program
    .command('onboard')
    .summary('subscribes tenants to a solution')
    .description(
      "subscribes tenants to a solution: a Subscription named SOLUTION in each tenant's namespace, for the tenants named by --tenants or every tenant whose spec.stack is --stack; one already there is left as it is",
    )
    .argument('<ORG/SOLUTION>')
    .usage('ORG/SOLUTION (--tenants T1,T2 | --stack NAME) [--version V]')
    .addOption(new Option('--tenants <T1,T2>', 'the tenants, by name').conflicts('stack'))
    .addOption(new Option('--stack <NAME>', 'every tenant whose spec.stack is NAME'))
    .addOption(new Option('--version <V>', 'the version of the solution to subscribe to'))
    .addOption(new Option('--organization <ORG>', 'the ORG of a SOLUTION written without one'));
  return cmd.action((ref: string, opts: OnboardOptions) => {
    if (!opts.tenants && !opts.stack) cmd.error('error: onboard needs one of --tenants T1,T2 and --stack NAME', { exitCode: EXIT.usage, code: 'miniapps.usage' });
    const solution = orgRef(ref, opts.organization, 'SOLUTION');
    const wanted = opts.tenants
      ?.split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    return env.run(async (ctx) => {
      const all = await ctx.api.list<Tenant>(Kinds.Tenant);
      const chosen = wanted ? all.filter((t) => wanted.includes(t.metadata.name)) : all.filter((t) => t.spec.stack === opts.stack);
      let code: number = EXIT.ok;
      for (const name of wanted ?? []) {
        if (!chosen.some((t) => t.metadata.name === name)) {
          ctx.io.err(`tenant.miniapps.dev "${name}" not found\n`);
          code = EXIT.notFound;
        }
      }
      if (chosen.length === 0 && !wanted) {
        ctx.io.err(`No tenant has spec.stack ${opts.stack}.\n`);
        return EXIT.notFound;
      }
      for (const t of chosen.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))) {
        const ns = t.status?.namespace;
        if (!ns) {
          ctx.io.err(`Tenant ${t.metadata.name} has no namespace yet (kubectl get tenant ${t.metadata.name} -o yaml shows why); not subscribed\n`);
          code = EXIT.notFound;
          continue;
        }
        const existing = await ctx.api.get<Subscription>(Kinds.Subscription, solution.name, ns);
        if (existing) {
          const same = existing.spec.solution.organization === solution.organization && existing.spec.solution.name === solution.name;
          if (same) ctx.io.out(`subscription.miniapps.dev/${solution.name} unchanged in ${ns} (tenant ${t.metadata.name})\n`);
          else {
            ctx.io.err(`Subscription ${ns}/${solution.name} exists for another solution (${existing.spec.solution.organization}/${existing.spec.solution.name}); left alone\n`);
            code = EXIT.invalid;
          }
          continue;
        }
        await ctx.api.create(Kinds.Subscription, {
          apiVersion: 'miniapps.dev/v1alpha1',
          kind: 'Subscription',
          metadata: { name: solution.name, namespace: ns },
          spec: { solution, ...(opts.version ? { version: opts.version } : {}) },
        });
        ctx.io.out(`subscription.miniapps.dev/${solution.name} created in ${ns} (tenant ${t.metadata.name})\n`);
      }
      return code;
    });
  });
}
