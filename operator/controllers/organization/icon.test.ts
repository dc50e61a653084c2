import { describe, expect, it } from 'vitest';
import type { IconReference } from '../../api/organization/schema.ts';
import { png } from '../../testenv/png.ts';
import { checkIcon, iconBytes } from './icon.ts';

const ref: IconReference = { kind: 'ConfigMap', name: 'brand', key: 'icon.png' };
const gif = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

describe('checkIcon', () => {
  it.each([
    ['a 512×512 PNG is valid', png(512, 512), 'True', 'IconValid'],
    ['a 1×1 GIF is valid', gif, 'True', 'IconValid'],
    ['a missing key is reported as missing', undefined, 'False', 'IconMissing'],
    ['text is not an image', Buffer.from('hello, not an image'), 'False', 'IconNotAnImage'],
    ['an SVG is refused (raster formats only)', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>'), 'False', 'IconNotAnImage'],
    ['a 513×10 PNG is too wide', png(513, 10), 'False', 'IconTooWide'],
    ['a 10×600 PNG is too tall', png(10, 600), 'False', 'IconTooWide'],
    ['more than 1 MiB is too large', Buffer.concat([png(10, 10), Buffer.alloc(1024 * 1024)]), 'False', 'IconTooLarge'],
  ])('%s', (_name, bytes, status, reason) => {
    expect(checkIcon(ref, bytes)).toMatchObject({ type: 'IconValid', status, reason });
  });

  it('says where the icon is and how to fix it', () => {
    expect(checkIcon(ref, png(600, 600)).message).toBe('The icon ConfigMap brand key icon.png is 600×600 pixels; it must be at most 512×512');
  });
});

describe('iconBytes', () => {
  it('reads Secret data and ConfigMap binaryData as base64', () => {
    const b64 = gif.toString('base64');
    const optedIn = { labels: { 'miniapps.dev/icon': 'true' } };
    expect(iconBytes({ metadata: optedIn, data: { k: b64 } }, 'Secret', 'k')).toEqual(gif);
    expect(iconBytes({ metadata: optedIn, binaryData: { k: b64 } }, 'ConfigMap', 'k')).toEqual(gif);
    expect(iconBytes({ data: {} }, 'Secret', 'k')).toBeUndefined();
    expect(iconBytes(undefined, 'Secret', 'k')).toBeUndefined();
  });

  it('reads nothing from a Secret that did not opt in with miniapps.dev/icon=true (the icon check as an oracle for Secrets)', () => {
    const data = { k: gif.toString('base64') };
    expect(iconBytes({ data }, 'Secret', 'k')).toBeUndefined();
    expect(iconBytes({ metadata: { labels: { 'miniapps.dev/icon': 'yes' } }, data }, 'Secret', 'k')).toBeUndefined();
  });

  it('reads nothing from a ConfigMap that did not opt in either (the icon check as an oracle for ConfigMaps)', () => {
    expect(iconBytes({ binaryData: { k: gif.toString('base64') } }, 'ConfigMap', 'k')).toBeUndefined();
    expect(iconBytes({ data: { k: 'text' } }, 'ConfigMap', 'k')).toBeUndefined();
    const cmRef = { kind: 'ConfigMap' as const, name: 'payroll', key: 'db-url' };
    expect(checkIcon(cmRef, iconBytes({ data: { 'db-url': 'postgres://x' } }, 'ConfigMap', 'db-url'))).toEqual(checkIcon(cmRef, iconBytes(undefined, 'ConfigMap', 'db-url')));
  });

  it('says the same of a missing Secret and of one that did not opt in, and nothing about its contents', () => {
    const secretRef = { kind: 'Secret' as const, name: 'db-password', key: 'password' };
    const missing = checkIcon(secretRef, iconBytes(undefined, 'Secret', 'password'));
    const notOptedIn = checkIcon(secretRef, iconBytes({ data: { password: Buffer.from('hunter2hunter2').toString('base64') } }, 'Secret', 'password'));
    expect(notOptedIn).toEqual(missing);
    expect(missing).toMatchObject({ status: 'False', reason: 'IconMissing', message: expect.stringContaining('labelled miniapps.dev/icon=true') });
  });
});
