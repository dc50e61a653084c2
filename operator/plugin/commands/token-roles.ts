// kubectl miniapps token-roles USER --app ORG/APP
import { Option } from 'commander';
import type { Command } from 'commander';
import { AppManifestConditions } from '../../api/appmanifest/names.ts';
import { tokenAudience } from '../../api/user/names.ts';
import type { AppManifest } from '../../api/appmanifest/schema.ts';
import type { Organization } from '../../api/organization/schema.ts';
import type { User } from '../../api/user/schema.ts';
import { Kinds } from '../../api/registry.ts';
import { appManifestOf, tokenRoles, tokenRolesRequiredOf } from '../../domain/solutions.ts';
import { ApiError } from '../../runtime/errors.ts';
import { EXIT, orgRef, outputOption } from '../core.ts';
import type { CommandEnv } from '../core.ts';
import { printDocument, table } from '../output.ts';

export function tokenRolesCommand(program: Command, env: CommandEnv): Command {
  return program
    .command('token-roles')
    .summary("the roles a token of the frontend app APP carries for USER, and the token's audience ORG/APPID")
    .description(
      "the roles a token of the frontend app APP (an AppManifest) carries for USER: the user's roles that the app's rolesRequired lists (only roles of its organization's listings), and the token's audience ORG/APPID",
    )
    .argument('<USER>')
    .usage('USER --app ORG/APP [-n TENANT_NAMESPACE] [-o yaml|json]')
    .addOption(new Option('--app <ORG/APP>', 'the AppManifest of the frontend app').makeOptionMandatory())
    .addOption(new Option('--organization <ORG>', 'the ORG of an APP written without one'))
    .addOption(outputOption(['yaml', 'json']))
    .action((userName: string, opts: { app: string; organization?: string; output?: 'yaml' | 'json' }) => {
      const ref = orgRef(opts.app, opts.organization, '--app');
      return env.run(async (ctx) => {
        const ns = ctx.namespace;
        const user = await ctx.api.get<User>(Kinds.User, userName, ns);
        if (!user) throw new ApiError(404, 'NotFound', `users.miniapps.dev "${userName}" not found in namespace ${ns}`);
        const org = await ctx.api.get<Organization>(Kinds.Organization, ref.organization);
        if (!org?.status?.namespace) throw new ApiError(404, 'NotFound', `Organization ${ref.organization} does not exist or has no namespace yet`);
        const app = await ctx.api.get<AppManifest>(Kinds.AppManifest, ref.name, org.status.namespace);
        if (!app) throw new ApiError(404, 'NotFound', `appmanifests.miniapps.dev "${ref.name}" not found in namespace ${org.status.namespace}`);
        // The app's last good manifest (status), as the operator's token-roles API answers: nothing while its organization
        // does not hold its ids, and only roles of its organization's listings.
        const required = tokenRolesRequiredOf(app);
        const roles = tokenRoles(user.status?.effectiveRoles ?? [], required);
        const doc = { user: `${ns}/${user.metadata.name}`, app: { ...ref, appId: app.spec.appId, listingId: app.spec.listingId }, audience: tokenAudience(ref.organization, app.spec.appId), roles };
        if (opts.output) {
          printDocument(ctx, opts.output, doc);
          return EXIT.ok;
        }
        if (roles.length === 0) {
          const why = !appManifestOf(app)
            ? ': it has no valid manifest yet'
            : app.status?.conditions?.find((c) => c.type === AppManifestConditions.IdsOwned)?.status !== 'True'
              ? ': its organization does not hold its appId and listingId (see its IdsOwned condition)'
              : '';
          ctx.io.err(
            `A token of ${app.spec.appId} carries no role for ${ns}/${user.metadata.name} (their roles: ${(user.status?.effectiveRoles ?? []).length}, the app requires ${required.length}${why}).\n`,
          );
          return EXIT.ok;
        }
        ctx.io.out(
          table(
            ['ROLE'],
            roles.map((r) => [r]),
          ),
        );
        return EXIT.ok;
      });
    });
}
