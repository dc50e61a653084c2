// kubectl miniapps delete MINIAPP
import type { Command } from 'commander';
import { CONFIRM_DELETE_ANNOTATION, CONFIRM_DELETE_VALUE } from '../../api/constants.ts';
import type { MiniApp } from '../../api/miniapp/schema.ts';
import { Kinds } from '../../api/registry.ts';
import { ApiError } from '../../runtime/errors.ts';
import { EXIT } from '../core.ts';
import type { CommandEnv } from '../core.ts';

export function remove(program: Command, env: CommandEnv): Command {
  return program
    .command('delete')
    .summary(`asks you to type ${CONFIRM_DELETE_VALUE}, then sets ${CONFIRM_DELETE_ANNOTATION} and deletes the mini app (its data key is destroyed)`)
    .argument('<MINIAPP>')
    .usage('MINIAPP [-n NS]')
    .action((name: string) =>
      env.run(async (ctx) => {
        const ns = ctx.namespace;
        const mini = await ctx.api.get<MiniApp>(Kinds.MiniApp, name, ns);
        if (!mini) throw new ApiError(404, 'NotFound', `miniapps.miniapps.dev "${name}" not found in namespace ${ns}`);
        const answer = await ctx.io.readLine(
          `Deleting MiniApp ${ns}/${name} takes it out of every catalog and destroys its data key: what it encrypted can never be revealed again.\nType ${CONFIRM_DELETE_VALUE} to delete it: `,
        );
        if (answer?.trim() !== CONFIRM_DELETE_VALUE) {
          ctx.io.err(`Not deleted: you did not type ${CONFIRM_DELETE_VALUE}.\n`);
          return EXIT.notConfirmed;
        }
        await ctx.api.patch(Kinds.MiniApp, name, ns, { metadata: { annotations: { [CONFIRM_DELETE_ANNOTATION]: CONFIRM_DELETE_VALUE } } });
        await ctx.api.delete(Kinds.MiniApp, name, ns);
        ctx.io.out(`miniapp.miniapps.dev "${name}" deleted\n`);
        return EXIT.ok;
      }),
    );
}
