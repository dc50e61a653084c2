// Every command in the guides (docs/guides/, operator/testenv/guides.ts says how they are
// marked) runs here, guide after guide in their order, against the real control plane
// with the operator running (invitations through a loopback SMTP server, the acceptance
// page on loopback): each guide as its person, impersonated in a kubeconfig made for the
// test (the admin's credentials with `as:`, as the API server checks any other user's
// requests), with the cluster's kubectl and the plugin from this checkout on PATH. Each
// block must end with the exit code the guide gives (0 unless it says otherwise) and print
// the lines the guide says it prints.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { PLATFORM_CONFIG_NAME } from '../api/platformconfig/names.ts';
import type { PlatformConfig } from '../api/platformconfig/schema.ts';
import { Kinds } from '../api/registry.ts';
import { deleteOrganizationsAndWait, testClient } from '../testenv/clients.ts';
import { eventually, freePort, testBinDir, testKubeconfig, uniqueName } from '../testenv/index.ts';
import { acceptByForm, acceptLink, invitationFlags } from '../testenv/invitations.ts';
import { OperatorProcess } from '../testenv/operator-process.ts';
import { TestSmtpServer } from '../testenv/smtp.ts';
import { loadGuides, missingOutput } from '../testenv/guides.ts';
import type { Guide } from '../testenv/guides.ts';

const PLUGIN = fileURLToPath(new URL('../cli/kubectl-miniapps.ts', import.meta.url));
const guides = loadGuides();
const admin = testClient();
const work = mkdtempSync(join(tmpdir(), 'guides-'));
const bin = join(work, 'bin');
let smtp: TestSmtpServer;
let operator: OperatorProcess;

/** A kubeconfig of the test cluster's admin credentials acting as `person` (kubectl and the plugin honour `as`). */
const kubeconfigs = new Map<string, string>();
function kubeconfigFor(person: Guide['person']): string {
  const made = kubeconfigs.get(person.user);
  if (made) return made;
  const kc = parse(readFileSync(testKubeconfig(), 'utf8')) as { users: { name: string; user: Record<string, unknown> }[] };
  for (const u of kc.users) {
    u.user.as = person.user;
    if (person.groups.length) u.user['as-groups'] = person.groups;
  }
  const path = join(work, `${person.user}.kubeconfig`);
  writeFileSync(path, stringify(kc), { mode: 0o600 });
  kubeconfigs.set(person.user, path);
  return path;
}

/** The guide's PlatformConfig: its provisioning administrator, the categories and platforms the guides use, no prefixes. */
let originalSpec: PlatformConfig['spec'] | undefined;
async function platformConfig(): Promise<void> {
  const provisioner = guides.find((g) => g.name === 'provisioning-administrator')?.person.user;
  const pc = await admin.get<PlatformConfig>(Kinds.PlatformConfig, PLATFORM_CONFIG_NAME);
  originalSpec = pc?.spec;
  const spec = { ...(pc?.spec ?? {}) } as Record<string, unknown>;
  delete spec.userPrefix;
  delete spec.groupPrefix;
  const union = (a: unknown, b: string[]) => [...new Set([...((a as string[] | undefined) ?? []), ...b])];
  Object.assign(spec, {
    provisioningAdministrators: { users: provisioner ? [provisioner] : [] },
    categories: union(spec.categories, ['Payments', 'Utilities']),
    platforms: union(spec.platforms, ['Android', 'iOS']),
  });
  if (pc) await admin.replace(Kinds.PlatformConfig, { ...pc, spec });
  else await admin.create(Kinds.PlatformConfig, { apiVersion: 'miniapps.dev/v1alpha1', kind: 'PlatformConfig', metadata: { name: PLATFORM_CONFIG_NAME }, spec });
}

beforeAll(async () => {
  // kubectl of the control plane, the plugin from this checkout (its #! finds this Node first on PATH).
  mkdirSync(bin);
  symlinkSync(join(testBinDir(), 'kubectl'), join(bin, 'kubectl'));
  symlinkSync(PLUGIN, join(bin, 'kubectl-miniapps'));
  smtp = await TestSmtpServer.start();
  await platformConfig();
  operator = await OperatorProcess.start({ kubeconfig: testKubeconfig(), namespace: uniqueName('op-guides'), args: invitationFlags(smtp.port, await freePort()) });
}, 120_000);

afterAll(async () => {
  // What the guides made, deleted (confirmed) while this file's operator still releases its
  // finalizers, and the PlatformConfig as it was: the next file's operator starts clean.
  if (operator) {
    await admin.delete(Kinds.Tenant, 'harbor').catch(() => undefined);
    await deleteOrganizationsAndWait(admin, ['lumen']);
    await eventually(async () => (await admin.get(Kinds.Tenant, 'harbor')) === undefined, { timeoutMs: 120_000, describe: 'Tenant harbor deleted' });
  }
  const pc = await admin.get<PlatformConfig>(Kinds.PlatformConfig, PLATFORM_CONFIG_NAME);
  if (pc && originalSpec) await admin.replace(Kinds.PlatformConfig, { ...pc, spec: originalSpec });
  else if (pc) await admin.delete(Kinds.PlatformConfig, PLATFORM_CONFIG_NAME);
  await operator?.stop();
  await smtp?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe.each(guides.map((g) => [g.name, g] as const))('the guide %s', (_name, guide) => {
  let kubeconfig: string;
  let home: string;
  beforeAll(() => {
    kubeconfig = kubeconfigFor(guide.person);
    home = join(work, guide.name);
    mkdirSync(home);
  });

  for (const step of guide.steps) {
    if (step.kind === 'accept-invitation') {
      it(`line ${step.line}: ${step.email} accepts the invitation through the link in their email`, async () => {
        const mail = await eventually(() => smtp.messages.filter((m) => m.to.includes(step.email)).at(-1) ?? false, { timeoutMs: 60_000, describe: `an invitation email to ${step.email}` });
        const res = await acceptByForm(acceptLink(mail));
        expect(res.status, await res.text()).toBe(200);
      });
      continue;
    }
    const first = step.script.split('\n')[0]!;
    const who = step.as ?? guide.person.user;
    it(`line ${step.line}: ${first}${step.script.includes('\n') ? ' ...' : ''} (as ${who}, exit ${step.exit})`, () => {
      const env = {
        PATH: [bin, dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
        HOME: home,
        KUBECONFIG: step.as ? kubeconfigFor({ user: step.as, groups: [] }) : kubeconfig,
        LANG: 'C.UTF-8',
      };
      const r = spawnSync('bash', ['-e', '-o', 'pipefail', '-c', step.script], { cwd: home, env, encoding: 'utf8', timeout: 180_000 });
      const output = `${r.stdout}${r.stderr}`;
      const where = `docs/guides/${guide.name}.md:${step.line} as ${who}\n${step.script}\n--- printed:\n${output}${r.error ? `\n${r.error.message}` : ''}`;
      expect(r.status, where).toBe(step.exit);
      expect(missingOutput(step.output, output), where).toEqual([]);
    }, 200_000);
  }
});
