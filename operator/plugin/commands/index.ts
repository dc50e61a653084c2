// The plugin's commands, in the order help lists them. A command is one file in this
// folder (a function that adds it to the program: its arguments, flags, help and action)
// and one line here.
import type { Command } from 'commander';
import type { CommandEnv } from '../core.ts';
import { catalog } from './catalog.ts';
import { completion } from './completion.ts';
import { remove } from './delete.ts';
import { duplicate } from './duplicate.ts';
import { getToken } from './get-token.ts';
import { list } from './list.ts';
import { login } from './login.ts';
import { onboard } from './onboard.ts';
import { search } from './search.ts';
import { tokenRolesCommand } from './token-roles.ts';

export const COMMANDS: readonly ((program: Command, env: CommandEnv) => Command)[] = [list, search, duplicate, catalog, remove, onboard, tokenRolesCommand, login, getToken, completion];
