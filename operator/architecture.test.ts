// The layers and slices of docs/architecture.md as checked facts. Each kind is a vertical
// slice (api/<folder>/ and controllers/<folder>/) registered by one line of
// api/registry.ts; the layers beneath (domain/, runtime/, servers/) and the tools beside
// (plugin/, testenv/) know no controller; a controller imports no other controller; no
// module imports itself back through others (type-only imports count: they tie the files
// together for a reader as much as for the compiler).
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ALL_KINDS } from './api/index.ts';
import { KIND_NAMES, sliceExport, sliceFolder } from './api/registry.ts';
import type { KindName } from './api/registry.ts';
import { MODULE_METRICS, MODULE_SETTINGS, MODULES } from './controllers/index.ts';
import { SETTINGS, allSettings } from './runtime/config.ts';
import { OperatorMetrics } from './runtime/metrics.ts';
import { HEALTH_KINDS } from './health/argocd.ts';

const ROOT = fileURLToPath(new URL('./', import.meta.url));
const KINDS = Object.keys(KIND_NAMES) as KindName[];
const FOLDERS = KINDS.map(sliceFolder);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'testdata' ? [] : sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Every file under operator/, relative (`controllers/membership/accept.ts`). */
const FILES = sourceFiles(ROOT).map((f) => relative(ROOT, f).replaceAll('\\', '/'));
const isTest = (f: string) => /\.(i?test)\.ts$/.test(f);

/** The operator files `file` imports (static imports and re-exports, type-only ones too; literal dynamic imports). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specs = [...text.matchAll(/^\s*(?:import|export)\s[^'";]*?from\s+'([^']+)'/gm), ...text.matchAll(/^\s*import\s+'([^']+)'/gm), ...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)].map(
    (m) => m[1]!,
  );
  return specs.filter((s) => s.startsWith('.')).map((s) => relative(ROOT, resolve(dirname(join(ROOT, file)), s)).replaceAll('\\', '/'));
}
const GRAPH = new Map(FILES.map((f) => [f, importsOf(f)]));

const layerOf = (f: string) => f.split('/')[0]!;
/** The slice a controllers/ file belongs to (`membership`), or undefined for controllers/*.ts (the module framework). */
const controllerSlice = (f: string) => (f.startsWith('controllers/') && f.split('/').length > 2 ? f.split('/')[1] : undefined);

/** The import edges from files `from` selects to files `to` selects, as `a → b`. */
function edges(from: (f: string) => boolean, to: (target: string, source: string) => boolean): string[] {
  return [...GRAPH].filter(([f]) => from(f)).flatMap(([f, targets]) => targets.filter((t) => to(t, f)).map((t) => `${f} → ${t}`));
}

/** The strongly connected components of more than one file (Tarjan). */
function cycles(): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of GRAPH.get(v) ?? []) {
      if (!GRAPH.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of GRAPH.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('the import rules (docs/architecture.md)', () => {
  it('sees the code: every slice and layer has files, and the graph has edges', () => {
    for (const layer of ['api', 'controllers', 'domain', 'runtime', 'servers', 'plugin', 'testenv', 'identity'])
      expect(
        FILES.some((f) => layerOf(f) === layer),
        layer,
      ).toBe(true);
    expect(GRAPH.get('app.ts')).toContain('controllers/index.ts');
  });

  it('no import cycle, type-only imports included', () => {
    expect(cycles()).toEqual([]);
  });

  it("a controller imports no other controller (tests may use another slice's fixtures)", () => {
    expect(
      edges(
        (f) => !isTest(f) && !!controllerSlice(f),
        (t, f) => !!controllerSlice(t) && controllerSlice(t) !== controllerSlice(f),
      ),
    ).toEqual([]);
  });

  it('api, domain, runtime, servers, identity, plugin and testenv import no controller, except in tests', () => {
    const below = new Set(['api', 'domain', 'runtime', 'servers', 'plugin', 'testenv', 'health', 'identity']);
    expect(
      edges(
        (f) => !isTest(f) && below.has(layerOf(f)),
        (t) => layerOf(t) === 'controllers',
      ),
    ).toEqual([]);
  });

  it('runtime knows no kind: of the API it reads only the kind-neutral names (api/constants.ts), and nothing of domain, servers or controllers', () => {
    expect(
      edges(
        (f) => !isTest(f) && layerOf(f) === 'runtime',
        (t) => ['domain', 'servers', 'controllers'].includes(layerOf(t)) || (layerOf(t) === 'api' && t !== 'api/constants.ts' && !t.startsWith('runtime/')),
      ),
    ).toEqual([]);
    const kindLiteral = new RegExp(`'(${KINDS.join('|')})'`);
    expect(FILES.filter((f) => layerOf(f) === 'runtime' && !isTest(f) && kindLiteral.test(readFileSync(join(ROOT, f), 'utf8')))).toEqual([]);
  });

  /**
   * Identifiers in runtime/ code (comments left out) made from a kind's name: `ApiKeyPhase`,
   * `MembershipConditions`, and for kinds of two words their camel case too (`apiKeyTimes`);
   * one-word kinds in lower case (`user`, `organization`) are ordinary words there.
   */
  function kindIdentifiers(files: Map<string, string>): string[] {
    const camel = KINDS.filter((k) => /[a-z][A-Z]/.test(k)).map((k) => `${k[0]!.toLowerCase()}${k.slice(1)}`);
    const ident = new RegExp(`\\b(?:${[...KINDS, ...camel].join('|')})[A-Z_]\\w*`, 'g');
    return [...files].flatMap(([f, text]) => {
      const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      return [...new Set([...code.matchAll(ident)].map((m) => m[0]))].map((id) => `${f}: ${id}`);
    });
  }

  it("runtime knows no kind: no identifier of its code names a kind, and its metrics are kind-neutral (a kind's are in its slice)", () => {
    const runtime = new Map(FILES.filter((f) => layerOf(f) === 'runtime' && !isTest(f)).map((f) => [f, readFileSync(join(ROOT, f), 'utf8')]));
    expect(kindIdentifiers(runtime)).toEqual([]);
    // The bare registry (no module's metric set) names no kind, and no module's metric is also one of runtime's.
    const own = new OperatorMetrics({ processMetrics: false }).registry.getMetricsAsArray().map((m) => m.name);
    const kindWords = new Set([...FOLDERS, ...KINDS.map((k) => KIND_NAMES[k].plural), 'invitation', 'invitations']);
    expect(
      own.filter((n) =>
        n
          .split('_')
          .slice(1)
          .some((w) => kindWords.has(w)),
      ),
    ).toEqual([]); // after the miniapps_ prefix
    const all = new OperatorMetrics({ processMetrics: false, sets: MODULE_METRICS }).registry.getMetricsAsArray().map((m) => m.name);
    const sliced = all.filter((n) => !own.includes(n));
    expect(sliced).toEqual(expect.arrayContaining(['miniapps_invitation_emails_total', 'miniapps_apikey_expiration_timestamp_seconds', 'miniapps_apikey_renewal_timestamp_seconds']));
    // A slice's metric set is declared in its own folder (controllers/<kind>/metrics.ts).
    for (const m of MODULES) for (const set of m.metrics ?? []) expect(existsSync(join(ROOT, 'controllers', m.name, 'metrics.ts')), `${m.name}: ${set.name}`).toBe(true);
  });

  it("runtime knows no kind's flags: a kind's settings are its module's (controllers/<kind>/settings.ts), gathered from the registry", () => {
    const kindWords = new Set([...FOLDERS, ...KINDS.map((k) => KIND_NAMES[k].plural), 'invitation', 'invitations', 'verify', 'public']);
    // `service-account` is Kubernetes' ServiceAccount the operator runs as, not the Account kind.
    const NOT_A_KIND = new Set(['service-account']);
    const own = Object.values(SETTINGS).map((s) => s.flag);
    expect(own.filter((flag) => !NOT_A_KIND.has(flag) && flag.split('-').some((w) => kindWords.has(w)))).toEqual([]);
    // The ones that moved are declared by their slice, and the process reads them all.
    const moduleFlags = Object.fromEntries(MODULES.filter((m) => m.settings).map((m) => [m.name, Object.values(m.settings!).map((s) => s.flag)]));
    expect(moduleFlags).toMatchObject({
      membership: expect.arrayContaining(['public-bind-address', 'public-url', 'invitation-resend-interval', 'invitation-resend-limit', 'invitation-recipient-limit', 'invitation-organization-limit']),
      apikey: expect.arrayContaining(['verify-bind-address', 'verify-rate-limit', 'verify-rate-burst']),
    });
    for (const m of MODULES) if (m.settings) expect(existsSync(join(ROOT, 'controllers', m.name, 'settings.ts')), m.name).toBe(true);
    expect(Object.keys(allSettings(MODULE_SETTINGS))).toEqual([...Object.keys(SETTINGS), ...MODULE_SETTINGS.flatMap((t) => Object.keys(t))]);
  });

  it('the kind-identifier rule can fail: runtime code naming apiKeyTimes or MembershipConditions is caught, a comment is not', () => {
    const probe = new Map([['runtime/__probe__.ts', '// the apiKey cache\nexport let apiKeyTimes = 1;\nconst x = MembershipConditions.Ready;\nconst user = 1, apiKey = 2;']]);
    expect(kindIdentifiers(probe)).toEqual(['runtime/__probe__.ts: apiKeyTimes', 'runtime/__probe__.ts: MembershipConditions']);
  });

  it('servers are listener plumbing: no kind (api/<kind>/, the registry), no domain, no controller', () => {
    const kindApi = (t: string) => layerOf(t) === 'api' && (FOLDERS.includes(t.split('/')[1]!) || t === 'api/registry.ts' || t === 'api/index.ts');
    expect(
      edges(
        (f) => !isTest(f) && layerOf(f) === 'servers',
        (t) => kindApi(t) || ['domain', 'controllers'].includes(layerOf(t)),
      ),
    ).toEqual([]);
  });

  it('the processes (app.ts, identity-app.ts) know no slice: they register MODULES and whatever they declare', () => {
    expect(
      edges(
        (f) => f === 'app.ts' || f === 'identity-app.ts',
        (t) => !!controllerSlice(t) || /^api\/[a-z]+\//.test(t),
      ),
    ).toEqual([]);
  });

  it('domain imports neither servers nor controllers', () => {
    expect(
      edges(
        (f) => !isTest(f) && layerOf(f) === 'domain',
        (t) => ['servers', 'controllers'].includes(layerOf(t)),
      ),
    ).toEqual([]);
  });

  it('one status writer: every controller writes its status through runtime/status.ts, none computes conditions itself', () => {
    const controllerFiles = FILES.filter((f) => !!controllerSlice(f) && !isTest(f));
    for (const folder of FOLDERS) expect(GRAPH.get(`controllers/${folder}/controller.ts`), folder).toContain('runtime/status.ts');
    expect(controllerFiles.filter((f) => /\b(replaceConditions|setConditions|warnNewFailures)\(/.test(readFileSync(join(ROOT, f), 'utf8')))).toEqual([]);
    // What is left of applyStatus in controllers are a side effect's records (an invitation, an acceptance), each under a field manager of its own.
    const bare = controllerFiles.flatMap((f) =>
      readFileSync(join(ROOT, f), 'utf8')
        .split('\n')
        .filter((line) => line.includes('.applyStatus(') && !line.includes('fieldManager:'))
        .map((line) => `${f}: ${line.trim()}`),
    );
    expect(bare).toEqual([]);
  });

  it('one import line per module (values and types apart): no file imports the same module twice the same way', () => {
    const twice = FILES.flatMap((f) => {
      const seen = new Map<string, number>();
      const text = readFileSync(join(ROOT, f), 'utf8');
      for (const m of text.matchAll(/^import (type )?\{[^}]*\} from '([^']+)';$/gm)) {
        // Not an import inside a template literal (a script a test writes for a child process).
        if ((text.slice(0, m.index).match(/`/g)?.length ?? 0) % 2 === 1) continue;
        const key = `${m[1] ?? ''}${m[2]!.startsWith('.') ? relative(ROOT, resolve(dirname(join(ROOT, f)), m[2]!)) : m[2]}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
      }
      return [...seen].filter(([, n]) => n > 1).map(([key]) => `${f}: ${key}`);
    });
    expect(twice).toEqual([]);
  });

  it('the rules can fail: a made-up edge from runtime to a controller is caught', () => {
    GRAPH.set('runtime/__probe__.ts', ['controllers/membership/controller.ts']);
    try {
      expect(
        edges(
          (f) => layerOf(f) === 'runtime',
          (t) => layerOf(t) === 'controllers',
        ),
      ).toEqual(['runtime/__probe__.ts → controllers/membership/controller.ts']);
    } finally {
      GRAPH.delete('runtime/__probe__.ts');
    }
  });
});

describe('each kind is a slice registered by one line (api/registry.ts)', () => {
  it.each(KINDS)('%s: api/<folder>/schema.ts and names.ts, controllers/<folder>/module.ts', (kind) => {
    const folder = sliceFolder(kind);
    expect(existsSync(join(ROOT, 'api', folder, 'schema.ts'))).toBe(true);
    expect(existsSync(join(ROOT, 'api', folder, 'names.ts'))).toBe(true);
    expect(existsSync(join(ROOT, 'controllers', folder, 'module.ts'))).toBe(true);
    expect(readFileSync(join(ROOT, 'api', folder, 'schema.ts'), 'utf8')).toContain(`export const ${sliceExport(kind, 'Kind')} = defineKind(`);
  });

  it("what each kind's module declares: its caches, the kinds it admits, its setup", () => {
    const declared = Object.fromEntries(MODULES.map((m) => [m.name, { caches: m.caches.map((c) => c.name), admits: [...(m.admits ?? [])], setup: typeof m.setup }]));
    expect(Object.keys(declared)).toEqual(FOLDERS);
    for (const [name, d] of Object.entries(declared)) {
      expect(d.setup, name).toBe('function');
      expect(d.caches.length, `${name} reads at least its own kind`).toBeGreaterThan(0);
      for (const k of d.admits) expect(KINDS, `${name} admits ${k}`).toContain(k);
    }
    // The module of a kind reads that kind's cache (the controller's `for`).
    for (const kind of KINDS) expect(declared[sliceFolder(kind)]!.caches, kind).toContain(KIND_NAMES[kind].plural);
  });

  it('every list of kinds is derived from the registry: the schemas, the modules, the health checks', () => {
    expect(ALL_KINDS.map((d) => d.kind)).toEqual(KINDS);
    expect(MODULES.map((m) => m.name)).toEqual(FOLDERS);
    expect([...HEALTH_KINDS]).toEqual(KINDS);
  });

  it('no slice folder without a registry line, in api/ or controllers/', () => {
    const dirs = (layer: string) =>
      readdirSync(join(ROOT, layer), { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
        .sort();
    expect(dirs('api')).toEqual([...FOLDERS].sort());
    expect(dirs('controllers')).toEqual([...FOLDERS].sort());
  });

  it('no other hand-kept list of kinds: no file but the registry names four or more kinds in one list', () => {
    const quoted = new RegExp(`['"](${KINDS.join('|')})['"]`, 'g');
    const lists = FILES.filter((f) => f !== 'api/registry.ts' && !isTest(f)).filter((f) =>
      readFileSync(join(ROOT, f), 'utf8')
        .split(/\n/)
        .some((line) => new Set([...line.matchAll(quoted)].map((m) => m[1])).size >= 4),
    );
    expect(lists).toEqual([]);
  });

  /**
   * What adding a kind touches, as a fact about the import graph: a file outside the slices
   * that imports the same part (schema.ts, policies.ts, module.ts, ...) of EVERY slice that
   * has it is a hand-kept list of kinds, which a new kind would have to join. The registry
   * loads the slices by name instead (api/index.ts, api/policies.ts, controllers/index.ts).
   */
  function handKeptLists(graph: Map<string, string[]>): string[] {
    const partsOf = new Map<string, Set<string>>();
    for (const f of graph.keys()) {
      const m = /^(api|controllers)\/([a-z]+)\/([a-z-]+\.ts)$/.exec(f);
      if (m && FOLDERS.includes(m[2]!)) partsOf.set(`${m[1]}/${m[3]}`, (partsOf.get(`${m[1]}/${m[3]}`) ?? new Set()).add(m[2]!));
    }
    const inSlice = (f: string) => /^(api|controllers)\/[a-z]+\//.test(f) && FOLDERS.includes(f.split('/')[1]!);
    return [...graph]
      .filter(([f]) => !isTest(f) && !inSlice(f) && f !== 'api/registry.ts')
      .flatMap(([f, targets]) =>
        [...partsOf].flatMap(([part, having]) => {
          const [layer, file] = part.split('/');
          const named = new Set(targets.filter((t) => t.startsWith(`${layer}/`) && t.endsWith(`/${file}`)).map((t) => t.split('/')[1]!));
          return having.size >= 3 && [...having].every((s) => named.has(s)) ? [`${f} lists every ${part.replace('/', '/<kind>/')}`] : [];
        }),
      );
  }

  it('adding a kind touches its api/<kind>/, its controllers/<kind>/ and one registry line: no other file lists every slice', () => {
    // domain/caches.ts included: its caches are derived from the registry (a typed map over KindObjects, which each slice's schema.ts fills).
    expect(handKeptLists(GRAPH)).toEqual([]);
  });

  it("the check can fail: a file that re-exports every schema, or imports every kind's policies, is a hand-kept list", () => {
    const probe = new Map(GRAPH);
    probe.set(
      'api/__probe_index__.ts',
      FOLDERS.map((f) => `api/${f}/schema.ts`),
    );
    const withPolicies = FOLDERS.filter((f) => existsSync(join(ROOT, 'api', f, 'policies.ts')));
    probe.set(
      'api/__probe_policies__.ts',
      withPolicies.map((f) => `api/${f}/policies.ts`),
    );
    probe.set(
      'domain/__probe_some__.ts',
      FOLDERS.slice(0, 3).map((f) => `api/${f}/schema.ts`),
    );
    expect(handKeptLists(probe).filter((l) => l.includes('__probe'))).toEqual([
      'api/__probe_index__.ts lists every api/<kind>/schema.ts',
      'api/__probe_policies__.ts lists every api/<kind>/policies.ts',
    ]);
  });
});
