import { describe, expect, it } from 'vitest';
import { breakDown, uncovered } from './rbac-coverage.ts';
import type { PolicyRule } from './rbac-types.ts';

const rule = (apiGroups: string[], resources: string[], verbs: string[], resourceNames?: string[]): PolicyRule => ({
  apiGroups,
  resources,
  verbs,
  ...(resourceNames ? { resourceNames } : {}),
});

describe('breakDown', () => {
  it('makes one permission per API group, resource, verb and name', () => {
    expect(breakDown(rule(['a', 'b'], ['x'], ['get', 'list'], ['n1', 'n2']))).toHaveLength(8);
    expect(breakDown(rule(['a'], ['x', 'y'], ['get']))).toEqual([
      { apiGroup: 'a', resource: 'x', verb: 'get' },
      { apiGroup: 'a', resource: 'y', verb: 'get' },
    ]);
  });
});

describe('uncovered', () => {
  it.each<[string, PolicyRule[], PolicyRule]>([
    ['the same rule', [rule(['g'], ['things'], ['get', 'list'])], rule(['g'], ['things'], ['get', 'list'])],
    ['a subset of verbs', [rule(['g'], ['things'], ['get', 'list', 'watch'])], rule(['g'], ['things'], ['watch'])],
    ['the union of two owner rules', [rule(['g'], ['things'], ['get']), rule(['g'], ['things'], ['list'])], rule(['g'], ['things'], ['get', 'list'])],
    ['any verb by "*"', [rule(['g'], ['things'], ['*'])], rule(['g'], ['things'], ['deletecollection'])],
    ['any API group by "*"', [rule(['*'], ['things'], ['get'])], rule(['other'], ['things'], ['get'])],
    ['a resource by "*"', [rule(['g'], ['*'], ['get'])], rule(['g'], ['things'], ['get'])],
    ['a subresource by "*"', [rule(['g'], ['*'], ['get'])], rule(['g'], ['things/status'], ['get'])],
    ['a subresource by "*/status"', [rule(['g'], ['*/status'], ['get'])], rule(['g'], ['things/status'], ['get'])],
    ['a resource "*" by "*"', [rule(['g'], ['*'], ['get'])], rule(['g'], ['*'], ['get'])],
    ['named objects by a rule without names', [rule(['g'], ['things'], ['get'])], rule(['g'], ['things'], ['get'], ['a', 'b'])],
    ['named objects by a rule with those names and more', [rule(['g'], ['things'], ['get'], ['a', 'b', 'c'])], rule(['g'], ['things'], ['get'], ['a', 'b'])],
  ])('finds nothing uncovered: %s', (_name, owner, wanted) => {
    expect(uncovered(owner, [wanted])).toEqual([]);
  });

  it.each<[string, PolicyRule[], PolicyRule, string[]]>([
    ['a verb the owner lacks', [rule(['g'], ['things'], ['get'])], rule(['g'], ['things'], ['get', 'delete']), ['g things delete']],
    ['another API group', [rule(['g'], ['things'], ['get'])], rule(['h'], ['things'], ['get']), ['h things get']],
    ['the core group by a named group', [rule(['g'], ['*'], ['get'])], rule([''], ['secrets'], ['get']), [' secrets get']],
    ['a subresource by its resource', [rule(['g'], ['things'], ['update'])], rule(['g'], ['things/status'], ['update']), ['g things/status update']],
    ['a resource by its subresource wildcard', [rule(['g'], ['*/status'], ['get'])], rule(['g'], ['things'], ['get']), ['g things get']],
    ['another subresource', [rule(['g'], ['*/status'], ['get'])], rule(['g'], ['things/scale'], ['get']), ['g things/scale get']],
    ['a resource "*" by one resource', [rule(['g'], ['things'], ['get'])], rule(['g'], ['*'], ['get']), ['g * get']],
    ['a verb "*" by every listed verb', [rule(['g'], ['things'], ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'])], rule(['g'], ['things'], ['*']), ['g things *']],
    ['a rule without names by a rule with names', [rule(['g'], ['things'], ['get'], ['a'])], rule(['g'], ['things'], ['get']), ['g things get']],
    ['a name the owner lacks', [rule(['g'], ['things'], ['get'], ['a'])], rule(['g'], ['things'], ['get'], ['a', 'b']), ['g things get b']],
  ])('finds uncovered %s', (_name, owner, wanted, missing) => {
    const found = uncovered(owner, [wanted]).map((p) => [p.apiGroup, p.resource, p.verb, ...(p.resourceName ? [p.resourceName] : [])].join(' '));
    expect(found).toEqual(missing);
  });
});
