// npm run package's pieces: the plugin file's version check (run in a context whose
// process is an old or a new Node), the archive's bytes and the krew manifest.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { gzip, krewManifest, launcher, minimumNode, tar, thirdPartyLicenses } from './package.ts';

const dir = mkdtempSync(join(tmpdir(), 'package-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the plugin file as `node` `version` would start it; what it wrote, its exit code, and whether the bundle ran. */
function start(file: string, version: string) {
  const stderr: string[] = [];
  const ran: string[] = [];
  const exit = Object.assign(new Error('exit'), { code: -1 });
  const proc = {
    versions: { node: version },
    argv: ['node', '/opt/bin/kubectl-miniapps'],
    stderr: { write: (t: string) => stderr.push(t) },
    exit: (code: number) => {
      exit.code = code;
      throw exit;
    },
    getBuiltinModule: (name: string) =>
      ({
        'node:vm': { compileFunction: (code: string) => () => ran.push(code), constants: {} },
        'node:path': { resolve: (p: string) => p, dirname: () => '/opt/bin' },
        'node:module': { createRequire: () => () => ({}) },
      })[name],
  };
  let code = 0;
  try {
    runInNewContext(file.replace(/^#!.*\n/, ''), { process: proc });
  } catch (err) {
    if (err !== exit) throw err;
    code = exit.code;
  }
  return { stderr: stderr.join(''), code, ran };
}

describe('the plugin file', () => {
  const file = launcher('this is not JavaScript an old Node could parse: using x = y;', [22, 18], '1.2.3');

  it.each(['20.20.2', '22.17.1', '18.0.0', '0.12.18'])('on Node %s: one line naming what it needs, exit 1, the bundle never compiled', (version) => {
    expect(start(file, version)).toEqual({ stderr: `kubectl-miniapps needs Node.js 22.18 or later (found v${version})\n`, code: 1, ran: [] });
  });

  it.each(['22.18.0', '22.20.1', '24.21.0', '25.0.0'])('on Node %s: compiles and runs the bundle', (version) => {
    expect(start(file, version)).toEqual({ stderr: '', code: 0, ran: ['this is not JavaScript an old Node could parse: using x = y;'] });
  });

  it('its first part is ES5 (parsed as such by the Node 24 running this test, with the bundle a string)', () => {
    expect(file.split('\n')[0]).toBe('#!/usr/bin/env node');
    expect(file).not.toMatch(/=>|\blet\b|\bconst\b|`/);
  });

  it('refuses a minimum under which its own start would not run (process.getBuiltinModule is 22.3)', () => {
    expect(() => launcher('', [20, 16], '1.2.3')).toThrow(/needs Node.js 22.3 or later/);
  });

  it("takes the minimum from package.json's engines", () => {
    expect(minimumNode('>=22.18')).toEqual([22, 18]);
    expect(minimumNode('>= 24')).toEqual([24, 0]);
    expect(() => minimumNode('^22')).toThrow(/expected >=MAJOR.MINOR/);
  });
});

describe('the release archive', () => {
  const entries = [
    { name: 'b', mode: 0o755, data: Buffer.from('#!/bin/sh\necho b\n') },
    { name: 'a', mode: 0o644, data: Buffer.alloc(1000, 'x') },
  ];

  it('is the same bytes for the same files in any order, and GNU tar reads it: names, modes, owner 0, time 0', () => {
    const one = gzip(tar(entries));
    expect(gzip(tar([...entries].reverse()))).toEqual(one);
    const path = join(dir, 'x.tar.gz');
    writeFileSync(path, one);
    const listing = execFileSync('tar', ['-tvzf', path, '--numeric-owner', '--full-time'], { encoding: 'utf8' }).trim().split('\n');
    expect(
      listing.map((l) =>
        l
          .split(/\s+/)
          .filter((_, i) => i !== 3 && i !== 4)
          .join(' '),
      ),
    ).toEqual(['-rw-r--r-- 0/0 1000 a', '-rwxr-xr-x 0/0 17 b']);
    expect(listing.every((l) => l.includes('1970-01-01 00:00:00'))).toBe(true);
    execFileSync('tar', ['-xzf', path, '-C', dir]);
    expect(readFileSync(join(dir, 'b'), 'utf8')).toBe('#!/bin/sh\necho b\n');
  });
});

describe('the third-party licenses', () => {
  it("carries each bundled package's name, version, license and license file, and refuses a package without one", () => {
    const modules = join(dir, 'node_modules');
    mkdirSync(join(modules, '@scope/b'), { recursive: true });
    mkdirSync(join(modules, 'a'), { recursive: true });
    writeFileSync(join(modules, '@scope/b/package.json'), '{"version":"2.0.0","license":"MIT"}');
    writeFileSync(join(modules, '@scope/b/LICENSE.md'), 'MIT text\n');
    writeFileSync(join(modules, 'a/package.json'), '{"version":"1.0.0","license":"ISC"}');
    const text = thirdPartyLicenses(['@scope/b'], modules);
    expect(text).toBe('@scope/b 2.0.0 (MIT)\n\nMIT text\n');
    expect(() => thirdPartyLicenses(['a'], modules)).toThrow(/a has no license file/);
  });
});

describe('the krew manifest', () => {
  it('is a krew Plugin for linux/amd64 with the uri, sha256 and both files', () => {
    const m = parse(krewManifest({ version: '1.2.3', uri: 'https://x/a.tar.gz', sha256: 'ab'.repeat(32), homepage: 'https://miniapps.dev', need: '22.18' }));
    expect(m).toMatchObject({ apiVersion: 'krew.googlecontainertools.github.com/v1alpha2', kind: 'Plugin', metadata: { name: 'miniapps' }, spec: { version: 'v1.2.3' } });
    expect(m.spec.shortDescription).not.toMatch(/\n/);
    expect(m.spec.caveats).toContain('Node.js 22.18 or later');
    expect(m.spec.platforms).toEqual([
      {
        selector: { matchLabels: { os: 'linux', arch: 'amd64' } },
        uri: 'https://x/a.tar.gz',
        sha256: 'ab'.repeat(32),
        files: [
          { from: 'kubectl-miniapps', to: '.' },
          { from: 'kubectl_complete-miniapps', to: '.' },
          { from: 'THIRD-PARTY-LICENSES.txt', to: '.' },
        ],
        bin: 'kubectl-miniapps',
      },
    ]);
  });
});
