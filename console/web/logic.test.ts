import { describe, expect, it } from 'vitest';
import type { Obj } from './api.ts';
import { checkProxyRequest } from '../server/allowlist.ts';
import { awaitingReview, catalogEntries, eventsPath, fieldOfError, filterMiniApps, objectNameOf, recentEvents, splitList } from './logic.ts';
import type { EventObj } from './logic.ts';

const miniApp = (name: string, spec: Record<string, unknown>, organization = 'bank'): Obj => ({
  metadata: { name },
  spec: { appName: name.replace(/-/g, '_'), type: 'Text', ...spec },
  status: { organization },
});

describe('the Manage list', () => {
  it('searches names, app names and types, and filters by category', () => {
    const items = [miniApp('pay-bills', { categories: ['finance'] }), miniApp('weather', { type: 'WebService', categories: ['news'] }), miniApp('pay-taxes', { categories: ['government'] })];
    expect(filterMiniApps(items, 'pay', '').map((m) => m.metadata.name)).toEqual(['pay-bills', 'pay-taxes']);
    expect(filterMiniApps(items, 'webservice', '').map((m) => m.metadata.name)).toEqual(['weather']);
    expect(filterMiniApps(items, 'pay', 'finance').map((m) => m.metadata.name)).toEqual(['pay-bills']);
    expect(filterMiniApps(items, '', 'news').map((m) => m.metadata.name)).toEqual(['weather']);
  });

  it('searches 2,000 mini apps well inside the one-second budget', () => {
    const items = Array.from({ length: 2000 }, (_, i) => miniApp(`app-${i}`, { categories: [i % 2 ? 'finance' : 'news'] }));
    const start = performance.now();
    for (let i = 0; i < 20; i++) filterMiniApps(items, `app-1${i % 10}`, 'finance');
    expect((performance.now() - start) / 20).toBeLessThan(50);
    expect(filterMiniApps(items, 'app-1999', 'finance')).toHaveLength(1);
  });

  it("makes an object name from any app name, so a bad app name meets the API server's own rule", () => {
    expect(objectNameOf('Pay_Bills')).toBe('pay-bills');
    expect(objectNameOf('bad name!')).toBe('bad-name');
  });
});

describe('the review queue', () => {
  const superApps: Obj[] = [{ metadata: { name: 'wallet' } }];
  it('lists versions aimed at our super apps with no review yet', () => {
    const apps = [
      miniApp('pay', { superApps: [{ name: 'wallet' }], versions: [{ name: '1.0.0' }, { name: '1.1.0' }] }),
      miniApp('other', { superApps: [{ name: 'elsewhere' }], versions: [{ name: '1.0.0' }] }),
      miniApp('partner', { superApps: [{ organization: 'other-org', name: 'wallet' }], versions: [{ name: '1.0.0' }] }),
    ];
    const reviews: Obj[] = [{ metadata: { name: 'r' }, spec: { miniApp: { organization: 'bank', name: 'pay' }, superApp: 'wallet', version: '1.0.0', decision: 'Approved' } }];
    expect(awaitingReview('bank', apps, superApps, reviews)).toEqual([{ organization: 'bank', miniApp: 'pay', appName: 'pay', superApp: 'wallet', version: '1.1.0' }]);
  });
});

describe("the edit forms' helpers", () => {
  it('reads a comma-separated list, trimmed, without empty entries', () => {
    expect(splitList(' Payments, News ,, ')).toEqual(['Payments', 'News']);
    expect(splitList('')).toEqual([]);
  });

  it.each([
    ['admission webhook "validate.miniapps.dev" denied the request: spec.categories: Gambling is not allowed', 'spec.categories'],
    ['MiniApp.miniapps.dev "x" is invalid: spec.locations[0]: Too long', 'spec.locations'],
    ['Operation cannot be fulfilled on miniapps.miniapps.dev "x": the object has been modified', undefined],
    [undefined, undefined],
  ])('puts the message %j by the field %s', (message, field) => {
    expect(fieldOfError(message, ['spec.categories', 'spec.locations'])).toBe(field);
  });

  it("reads a catalog ConfigMap's mini apps, and none from one without a catalog or with a broken one", () => {
    const entry = { organization: 'bank', name: 'pay', appName: 'pay', type: 'Text', version: '1.0.0', categories: [], featured: true };
    expect(catalogEntries({ data: { 'catalog.json': JSON.stringify({ kind: 'Catalog', miniApps: [entry] }) } })).toEqual([entry]);
    expect(catalogEntries({ data: {} })).toEqual([]);
    expect(catalogEntries({ data: { 'catalog.json': '{not json' } })).toEqual([]);
    expect(catalogEntries(undefined)).toEqual([]);
  });
});

describe('recent events', () => {
  const ev = (name: string, o: Partial<EventObj>): EventObj => ({ metadata: { name, namespace: 'org-a', creationTimestamp: '2026-12-07T10:00:00Z' }, ...o });

  it('newest first by lastTimestamp, else eventTime, else creation; at most the limit; a count shown only above one', () => {
    const shown = recentEvents(
      [
        ev('a', { lastTimestamp: '2026-12-07T10:05:00Z', reason: 'InvitationSent', type: 'Normal', message: 'Invitation 1 sent', involvedObject: { kind: 'Membership', name: 'ada' }, count: 1 }),
        ev('b', { eventTime: '2026-12-07T10:07:00.123456Z', reason: 'SMTPUnavailable', type: 'Warning', involvedObject: { kind: 'Membership', name: 'bob' }, count: 3 }),
        ev('c', {}),
        ev('d', { lastTimestamp: '2026-12-07T10:06:00Z' }),
      ],
      3,
    );
    expect(shown.map((e) => e.key)).toEqual(['org-a/b', 'org-a/d', 'org-a/a']);
    expect(shown[0]).toMatchObject({ object: 'bob', type: 'Warning', reason: 'SMTPUnavailable', count: 3 });
    expect(shown[2]).toMatchObject({ object: 'ada', message: 'Invitation 1 sent', count: 1 });
  });

  it("asks the API server for one kind's Events, a list and a watch the console's proxy forwards", () => {
    const path = eventsPath('org-a', 'Membership');
    expect(path).toBe('/api/v1/namespaces/org-a/events?fieldSelector=involvedObject.kind%3DMembership');
    for (const asked of [path, `${path}&watch=1&allowWatchBookmarks=true&resourceVersion=5`]) {
      expect(checkProxyRequest('GET', asked)).toMatchObject({ ok: true, path: expect.stringContaining('fieldSelector=involvedObject.kind%3DMembership') });
    }
  });
});
