// kubectl miniapps catalog SUPERAPP
import { Option } from 'commander';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import type { SuperApp } from '../../api/superapp/schema.ts';
import { Kinds } from '../../api/registry.ts';
import { ApiError } from '../../runtime/errors.ts';
import type { AnyObject } from '../../runtime/kube/client.ts';
import { Resources } from '../../runtime/kube/resource.ts';
import { EXIT, outputOption } from '../core.ts';
import type { CommandEnv } from '../core.ts';
import { table } from '../output.ts';

interface CatalogDoc {
  superApp: { organization: string; name: string; displayName: string };
  miniApps: { organization: string; name: string; appName: string; type: string; version: string; categories: string[]; dataPrivacy: { protection: string }; featured: boolean }[];
}

export function catalog(program: Command, env: CommandEnv): Command {
  return program
    .command('catalog')
    .summary('the live catalog of a super app, or with --version the snapshot frozen for that version')
    .argument('<SUPERAPP>')
    .usage('SUPERAPP [--version V] [-n NS] [-o yaml|json]')
    .addOption(new Option('--version <V>', 'the version whose frozen snapshot to print'))
    .addOption(outputOption(['yaml', 'json']))
    .action((name: string, opts: { version?: string; output?: 'yaml' | 'json' }) =>
      env.run(async (ctx) => {
        const ns = ctx.namespace;
        const sa = await ctx.api.get<SuperApp>(Kinds.SuperApp, name, ns);
        if (!sa) throw new ApiError(404, 'NotFound', `superapps.miniapps.dev "${name}" not found in namespace ${ns}`);
        let configMap: string | undefined;
        if (opts.version) {
          const v = sa.status?.versions?.find((x) => x.name === opts.version);
          if (!v) throw new ApiError(404, 'NotFound', `SuperApp ${name} has no snapshot of version ${opts.version} (frozen: ${(sa.status?.versions ?? []).map((x) => x.name).join(', ') || 'none'})`);
          configMap = v.configMapName;
        } else {
          configMap = sa.status?.catalog?.configMapName;
          if (!configMap) throw new ApiError(404, 'NotFound', `SuperApp ${name} has no published catalog yet (kubectl get superapp ${name} -n ${ns} -o yaml shows why)`);
        }
        const cm = await ctx.api.get<AnyObject & { data?: Record<string, string> }>(Resources.ConfigMap, configMap, ns);
        const json = cm?.data?.['catalog.json'];
        if (!json) throw new ApiError(404, 'NotFound', `ConfigMap ${ns}/${configMap} holds no catalog`);
        if (opts.output === 'json') {
          ctx.io.out(json);
          return EXIT.ok;
        }
        const doc = JSON.parse(json) as CatalogDoc;
        if (opts.output === 'yaml') {
          ctx.io.out(stringify(doc));
          return EXIT.ok;
        }
        if (doc.miniApps.length === 0) {
          ctx.io.err(`The catalog of ${doc.superApp.organization}/${doc.superApp.name}${opts.version ? ` at version ${opts.version}` : ''} lists no mini app.\n`);
          return EXIT.ok;
        }
        ctx.io.out(
          table(
            ['#', 'ORGANIZATION', 'NAME', 'APP NAME', 'TYPE', 'VERSION', 'CATEGORIES', 'PROTECTION', 'FEATURED'],
            doc.miniApps.map((m, i) => [String(i + 1), m.organization, m.name, m.appName, m.type, m.version, m.categories.join(','), m.dataPrivacy.protection, m.featured ? 'yes' : 'no']),
          ),
        );
        return EXIT.ok;
      }),
    );
}
