// Manifest files as the operator reads them: the seed's examples parse; each kind of bad
// input is refused with the line, column and field path where it is.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { listingOfRole } from '../domain/caches.ts';
import { formatProblem, formatProblems, manifestDigest, parseManifestFile } from './parse.ts';

const testdata = (name: string) => readFileSync(new URL(`./testdata/${name}`, import.meta.url), 'utf8');
const SEED = testdata('gated-solution.yaml');

/** The seed manifest with line `n` (1-based) replaced. */
const withLine = (n: number, text: string) =>
  SEED.split('\n')
    .map((l, i) => (i === n - 1 ? text : l))
    .join('\n');
const lineOf = (needle: string) => SEED.split('\n').findIndex((l) => l.includes(needle)) + 1;

describe('parseManifestFile', () => {
  it("parses the seed's solution manifest: its groups, landing pages and roles", async () => {
    const r = await parseManifestFile('solution', SEED);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.manifest.solutionId).toBe('gated-solution');
    expect(r.manifest.userGroupsRequired?.map((g) => g.name)).toEqual(['solutions owner', 'field executive']);
    expect(r.manifest.adminUserGroups?.map((g) => g.name)).toEqual(['solutions admin']);
    expect(r.manifest.userGroupsRequired?.[1]?.landingPage).toEqual({ url: '/field/home', rank: 2 });
    expect(manifestDigest(r.manifest)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("parses the seed's app manifest with its rolesRequired", async () => {
    const r = await parseManifestFile('app', testdata('gated-frontend.yaml'));
    expect(r.ok && r.manifest.rolesRequired).toContain('platform:role:gated-frontend:owner');
  });

  it('gives the same digest to the same manifest written differently (comments, flow style, key order)', async () => {
    const a = await parseManifestFile('solution', 'solutionId: s\nuserGroupsRequired:\n  - name: g\n    roles: [role:a:b]\n');
    const b = await parseManifestFile('solution', '# c\nuserGroupsRequired: [{roles: ["role:a:b"], name: g}]\nsolutionId: s\n');
    const c = await parseManifestFile('solution', 'solutionId: s\nuserGroupsRequired: [{roles: ["role:a:c"], name: g}]\n');
    expect(a.ok && b.ok && c.ok).toBe(true);
    if (!a.ok || !b.ok || !c.ok) return;
    expect(manifestDigest(a.manifest)).toBe(manifestDigest(b.manifest));
    expect(manifestDigest(c.manifest)).not.toBe(manifestDigest(a.manifest));
    expect(manifestDigest({ x: 1, y: [1, 2] })).toBe(manifestDigest({ y: [1, 2], x: 1 }));
  });

  const roleLine = lineOf('role:gated-frontend:field-entry');
  it.each([
    {
      case: 'a role in the wrong format names its line, column and field, and the format',
      text: withLine(roleLine, '      - gated-frontend:field-entry'),
      reason: 'ManifestSchemaInvalid',
      expected: `manifest.yaml:${roleLine}:9 userGroupsRequired[1].roles[1]: must match role:<listingId>:<roleName>`,
    },
    {
      case: 'a field the format does not have names the key',
      text: withLine(lineOf('description: Works in the field'), '    descripton: Works in the field'),
      reason: 'ManifestSchemaInvalid',
      expected: `manifest.yaml:${lineOf('description: Works in the field')}:5 userGroupsRequired[1].descripton: is not a field of this manifest`,
    },
    {
      case: 'a missing solutionId is reported at the document',
      text: SEED.replace('solutionId: gated-solution\n', ''),
      reason: 'ManifestSchemaInvalid',
      expected: 'manifest.yaml:2:1 solutionId: is required',
    },
    {
      case: 'a rank that is not a number names the rank',
      text: SEED.replace('rank: 2', 'rank: second'),
      reason: 'ManifestSchemaInvalid',
      expected: `manifest.yaml:${lineOf('rank: 2')}:13 userGroupsRequired[1].landingPage.rank: must be integer`,
    },
    {
      case: 'a group named twice (by the UserGroup it makes) names the second one',
      text: SEED.replace('- name: solutions admin', '- name: Field Executive'),
      reason: 'ManifestInconsistent',
      expected: `manifest.yaml:${lineOf('- name: solutions admin')}:11 adminUserGroups[0].name: names the group "Field Executive" again (as UserGroup field-executive, already named at userGroupsRequired[1].name); a group may appear once`,
    },
    {
      case: 'a role listed twice in a group is a duplicate',
      text: SEED.replace('- role:gated-frontend:field-entry', '- role:gated-frontend:viewer'),
      reason: 'ManifestSchemaInvalid',
      expected: `manifest.yaml:${roleLine}:9 userGroupsRequired[1].roles[1]: repeats item 0: a list of roles holds each once`,
    },
    {
      case: 'text that is not YAML names where it breaks',
      text: 'solutionId: [unclosed\nuserGroupsRequired: {\n',
      reason: 'ManifestNotYAML',
      expected: 'manifest.yaml:',
    },
    {
      case: 'a key written twice is not YAML (one of them would be lost)',
      text: 'solutionId: a\nsolutionId: b\n',
      reason: 'ManifestNotYAML',
      expected: 'manifest.yaml:2:1',
    },
    { case: 'an empty file is refused', text: '# nothing\n', reason: 'ManifestSchemaInvalid', expected: 'manifest.yaml is empty: a manifest is a YAML mapping' },
    { case: 'a list is not a manifest', text: '- a\n- b\n', reason: 'ManifestSchemaInvalid', expected: 'manifest.yaml:1:1 must be object' },
  ])('$case', async ({ text, reason, expected }) => {
    const r = await parseManifestFile('solution', text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toBe(reason);
    expect(formatProblems('manifest.yaml', r.problems)).toContain(expected);
  });

  it('reports every problem at once, each at its own place', async () => {
    const text = SEED.replace('role:gated-frontend:owner', 'owner').replace('rank: 2', 'rank: 0');
    const r = await parseManifestFile('solution', text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => formatProblem('m.yaml', p))).toEqual([
      `m.yaml:${lineOf('role:gated-frontend:owner')}:9 userGroupsRequired[0].roles[0]: must match role:<listingId>:<roleName>`,
      `m.yaml:${lineOf('rank: 2')}:13 userGroupsRequired[1].landingPage.rank: must be >= 1`,
    ]);
  });

  it("refuses an app manifest's rolesRequired entry without the platform: prefix", async () => {
    const r = await parseManifestFile('app', testdata('gated-frontend.yaml').replace('- platform:role:gated-frontend:owner', '- role:gated-frontend:owner'));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(formatProblems('app.yaml', r.problems)).toMatch(/^app\.yaml:9:5 rolesRequired\[0\]: must match platform:role:<listingId>:<roleName>$/);
  });
});

describe("seed 003's own files, as the seed writes them", () => {
  const seed003 = (name: string) => testdata(`seed003/${name}`);

  it('the solution manifest parses: adminUserGroups is a list of names, kept as groups with only a name', async () => {
    const r = await parseManifestFile('solution', seed003('solution-manifest.yaml'));
    expect(r.ok, JSON.stringify(!r.ok && r.problems)).toBe(true);
    if (!r.ok) return;
    expect(r.manifest.solutionId).toBe('gated-solution');
    expect(r.manifest.userGroupsRequired?.map((g) => g.name)).toEqual(['solutions-owner', 'field-executive']);
    expect(r.manifest.adminUserGroups).toEqual([{ name: 'solutions-admin' }]);
  });

  it('a name and the same group written whole with only its name are one manifest (one digest)', async () => {
    const a = await parseManifestFile('solution', 'solutionId: s\nadminUserGroups:\n  - solutions admin\n');
    const b = await parseManifestFile('solution', 'solutionId: s\nadminUserGroups:\n  - name: solutions admin\n');
    expect(a.ok && b.ok).toBe(true);
    if (!a.ok || !b.ok) return;
    expect(manifestDigest(a.manifest)).toBe(manifestDigest(b.manifest));
  });

  it('an admin group may name a group of userGroupsRequired (its administrators get it), by name only', async () => {
    const r = await parseManifestFile(
      'solution',
      'solutionId: s\nuserGroupsRequired:\n  - name: solutions owner\n    roles: [role:a:b]\nadminUserGroups:\n  - Solutions Owner\n  - name: other\n    roles: [role:a:c]\n',
    );
    expect(r.ok, JSON.stringify(!r.ok && r.problems)).toBe(true);
  });

  it('an admin group written whole that repeats a userGroupsRequired group is still refused (which roles would hold?)', async () => {
    const r = await parseManifestFile('solution', 'solutionId: s\nuserGroupsRequired:\n  - name: g\nadminUserGroups:\n  - name: g\n    roles: [role:a:b]\n');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toBe('ManifestInconsistent');
  });

  it('an admin group name that is not a group name (a role, a URL) is refused with its place', async () => {
    const r = await parseManifestFile('solution', 'solutionId: s\nadminUserGroups:\n  - "role:a:b"\n');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(formatProblems('m.yaml', r.problems)).toContain('m.yaml:3:5 adminUserGroups[0]');
  });

  it("the frontend app's file parses: appId with colons, rolesRequired with roles under it, no listingId", async () => {
    const r = await parseManifestFile('app', seed003('frontend-app.yaml'));
    expect(r.ok, JSON.stringify(!r.ok && r.problems)).toBe(true);
    if (!r.ok) return;
    expect(r.manifest.appId).toBe('platform:app:example-client');
    expect(r.manifest.listingId).toBeUndefined();
    expect(r.manifest.rolesRequired).toEqual([
      'platform:role:platform:app:example:users',
      'platform:role:platform:app:example:users-admin',
      'platform:role:platform:app:dispatch:viewer',
      'platform:role:platform:app:dispatch:editor',
    ]);
  });

  it('rolesRequired as a list (the form before) and under roles: are one manifest', async () => {
    const a = await parseManifestFile('app', 'appId: x\nrolesRequired:\n  roles: [platform:role:l:r]\n');
    const b = await parseManifestFile('app', 'appId: x\nrolesRequired: [platform:role:l:r]\n');
    expect(a.ok && b.ok).toBe(true);
    if (!a.ok || !b.ok) return;
    expect(manifestDigest(a.manifest)).toBe(manifestDigest(b.manifest));
  });

  it.each([
    { role: 'role:dispatch-orders-app:dispatch-get-orders', listing: 'dispatch-orders-app' },
    { role: 'role:platform:app:example:users', listing: 'platform:app:example' },
    { role: 'platform:role:platform:app:example:users-admin', listing: 'platform:app:example' },
    { role: 'platform:role:gated-frontend:owner', listing: 'gated-frontend' },
  ])('role $role is of listing $listing (the role name is the last part)', ({ role, listing }) => {
    expect(listingOfRole(role)).toBe(listing);
  });

  it('a role id without a role name after its listing is refused', async () => {
    const r = await parseManifestFile('app', 'appId: x\nrolesRequired:\n  roles: ["platform:role:onlylisting"]\n');
    expect(r.ok).toBe(false);
  });
});
