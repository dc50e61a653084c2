import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { findTool, toolsRequired } from './tools.ts';

const dir = mkdtempSync(join(tmpdir(), 'tools-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const binary = (path: string) => {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, '#!/bin/sh\n');
  chmodSync(path, 0o755);
  return path;
};

describe('findTool', () => {
  it('takes the environment variable first, and refuses one that names no file', () => {
    const own = binary(join(dir, 'own/promtool'));
    expect(findTool('promtool', { PROMTOOL: own, MINIAPPS_CACHE_DIR: dir })).toBe(own);
    expect(() => findTool('promtool', { PROMTOOL: join(dir, 'nope') })).toThrow(/no such file/);
  });

  it('then the stable link of hack/tools/build.sh, then PATH', () => {
    const cached = binary(join(dir, 'cache/tools/bin/kstatus'));
    const onPath = binary(join(dir, 'path/kstatus'));
    expect(findTool('kstatus', { MINIAPPS_CACHE_DIR: join(dir, 'cache'), PATH: join(dir, 'path') })).toBe(cached);
    expect(findTool('kstatus', { MINIAPPS_CACHE_DIR: join(dir, 'empty'), PATH: join(dir, 'path') })).toBe(onPath);
  });

  it('skips (undefined, with a warning) without CI, and fails with CI set', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(findTool('glua', { MINIAPPS_CACHE_DIR: join(dir, 'empty'), PATH: '' })).toBeUndefined();
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('npm run tools:build'));
    warn.mockRestore();
    expect(() => findTool('glua', { CI: 'true', MINIAPPS_CACHE_DIR: join(dir, 'empty'), PATH: '' })).toThrow(/CI is set/);
  });

  it.each([
    ['true', true],
    ['1', true],
    ['false', false],
    ['0', false],
    ['', false],
  ])('reads CI=%j as %s', (ci, required) => {
    expect(toolsRequired({ CI: ci })).toBe(required);
  });
});
