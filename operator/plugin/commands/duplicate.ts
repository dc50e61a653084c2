// kubectl miniapps duplicate SOURCE NEWNAME
import { Option } from 'commander';
import type { Command } from 'commander';
import { DATA_PROTECTION_MODES } from '../../api/miniapp/names.ts';
import type { MiniApp } from '../../api/miniapp/schema.ts';
import type { Organization } from '../../api/organization/schema.ts';
import { Kinds } from '../../api/registry.ts';
import { ApiError } from '../../runtime/errors.ts';
import { EXIT, outputOption } from '../core.ts';
import type { CommandEnv } from '../core.ts';
import { printObjects } from '../output.ts';

/** Letters, digits and underscores, as appName must be. */
const appNameFrom = (name: string) => name.replace(/[^A-Za-z0-9_]+/g, '_');

interface DuplicateOptions {
  appName?: string;
  organization?: string;
  dataPrivacy?: NonNullable<MiniApp['spec']['dataPrivacy']>['protection'];
  output?: 'yaml' | 'json';
}

export function duplicate(program: Command, env: CommandEnv): Command {
  return program
    .command('duplicate')
    .summary("a new mini app with SOURCE's spec, a new name and app name, optionally in another organization and with another data-privacy mode")
    .description(
      `a new mini app with SOURCE's spec, a new name and app name, optionally in another organization and with another data-privacy mode (${DATA_PROTECTION_MODES.join(', ')}); never its status, uid or data key (the copy gets a key of its own); with -o it prints the copy instead of creating it`,
    )
    .argument('<SOURCE>')
    .argument('<NEWNAME>')
    .usage('SOURCE NEWNAME [--app-name NAME] [--organization ORG] [--data-privacy MODE] [-n NS] [-o yaml|json]')
    .addOption(new Option('--app-name <NAME>', "the copy's app name (default: NEWNAME with _ for what an app name may not hold)"))
    .addOption(new Option('--organization <ORG>', 'the organization to copy into (its namespace)'))
    .addOption(new Option('--data-privacy <MODE>', "the copy's data-privacy mode").choices(DATA_PROTECTION_MODES))
    .addOption(outputOption(['yaml', 'json']))
    .action((sourceName: string, newName: string, opts: DuplicateOptions) =>
      env.run(async (ctx) => {
        const ns = ctx.namespace;
        const source = await ctx.api.get<MiniApp>(Kinds.MiniApp, sourceName, ns);
        if (!source) throw new ApiError(404, 'NotFound', `miniapps.miniapps.dev "${sourceName}" not found in namespace ${ns}`);
        // Targets that leave out their organization mean the source's own: say so, so that the copy means the same super apps wherever it goes.
        const sourceOrg = source.status?.organization;
        let namespace = ns;
        if (opts.organization && opts.organization !== sourceOrg) {
          const org = await ctx.api.get<Organization>(Kinds.Organization, opts.organization);
          if (!org?.status?.namespace) throw new ApiError(404, 'NotFound', `Organization ${opts.organization} does not exist or has no namespace yet`);
          namespace = org.status.namespace;
        }
        const spec = structuredClone(source.spec);
        spec.appName = opts.appName ?? appNameFrom(newName);
        if (spec.superApps && sourceOrg) spec.superApps = spec.superApps.map((t) => ({ organization: t.organization ?? sourceOrg, name: t.name }));
        if (opts.dataPrivacy) spec.dataPrivacy = { ...spec.dataPrivacy, protection: opts.dataPrivacy };
        // Only what the copy is: never status, uid, resourceVersion, finalizers, owners, annotations (a confirm-delete!) or a data key.
        const copy = {
          apiVersion: 'miniapps.dev/v1alpha1',
          kind: 'MiniApp',
          metadata: { name: newName, namespace, ...(source.metadata.labels ? { labels: { ...source.metadata.labels } } : {}) },
          spec,
        };
        if (opts.output) {
          printObjects(ctx, opts.output, [copy], true);
          return EXIT.ok;
        }
        await ctx.api.create(Kinds.MiniApp, copy);
        ctx.io.out(`miniapp.miniapps.dev/${newName} created\n`);
        return EXIT.ok;
      }),
    );
}
