// The page's pure logic (no DOM, no Preact), unit-tested in console/web/logic.test.ts.
import type { Obj } from './api.ts';

/** An object name from an app name: lowercase, underscores as dashes. */
export const objectNameOf = (appName: string): string =>
  appName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);

/** Mini apps matching a search (name, app name, type) and a category. */
export function filterMiniApps(items: Obj[], search: string, category: string): Obj[] {
  const q = search.trim().toLowerCase();
  return items.filter((m) => {
    if (category && !(m.spec?.categories ?? []).includes(category)) return false;
    if (!q) return true;
    return (
      m.metadata.name.includes(q) ||
      String(m.spec?.appName ?? '')
        .toLowerCase()
        .includes(q) ||
      String(m.spec?.type ?? '')
        .toLowerCase()
        .includes(q)
    );
  });
}

export interface Pending {
  organization: string;
  miniApp: string;
  appName: string;
  superApp: string;
  version: string;
}

/** Versions of readable mini apps that target one of this organization's super apps and have no review yet. */
export function awaitingReview(org: string, miniApps: Obj[], superApps: Obj[], reviews: Obj[]): Pending[] {
  const mine = new Set(superApps.map((s) => s.metadata.name));
  const reviewed = new Set(reviews.map((r) => `${r.spec?.miniApp?.organization}/${r.spec?.miniApp?.name}/${r.spec?.superApp}/${r.spec?.version}`));
  const out: Pending[] = [];
  for (const m of miniApps) {
    const orgOf = (m.status?.organization as string | undefined) ?? org;
    const versions = ((m.spec?.versions as { name: string }[] | undefined) ?? []).map((v) => v.name);
    for (const target of (m.spec?.superApps as { organization?: string; name: string }[] | undefined) ?? []) {
      if ((target.organization ?? orgOf) !== org || !mine.has(target.name)) continue;
      for (const version of versions) {
        if (!reviewed.has(`${orgOf}/${m.metadata.name}/${target.name}/${version}`))
          out.push({ organization: orgOf, miniApp: m.metadata.name, appName: m.spec?.appName ?? m.metadata.name, superApp: target.name, version });
      }
    }
  }
  return out;
}

/** A comma-separated field's values, trimmed, empty ones dropped. */
export const splitList = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/**
 * Which field the API server's message is about: the first of `fields` (paths such as
 * `spec.categories`) it names, else undefined (the message then goes under the form).
 */
export const fieldOfError = (message: string | undefined, fields: string[]): string | undefined => (message ? fields.find((f) => message.includes(f)) : undefined);

/** A mini app as a super app's catalog lists it (operator/domain/apps.ts CatalogEntry). */
export interface CatalogEntry {
  organization: string;
  name: string;
  appName: string;
  type: string;
  version: string;
  categories: string[];
  featured: boolean;
}

/** The mini apps of a catalog ConfigMap (its catalog.json), or none when it has no catalog yet. */
export function catalogEntries(cm: { data?: Record<string, string> } | undefined): CatalogEntry[] {
  try {
    return (JSON.parse(cm?.data?.['catalog.json'] ?? '{}') as { miniApps?: CatalogEntry[] }).miniApps ?? [];
  } catch {
    return [];
  }
}

/** The path of a namespace's Events about objects of `kind` (a field selector the API server applies). */
export const eventsPath = (ns: string, kind: string): string => `/api/v1/namespaces/${ns}/events?fieldSelector=${encodeURIComponent(`involvedObject.kind=${kind}`)}`;

/** A core v1 Event: the fields the console reads. */
export type EventObj = Obj & {
  involvedObject?: { kind?: string; name?: string };
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  lastTimestamp?: string;
  eventTime?: string;
};

/** An Event as the console shows it: when it last happened, about which object, and what it said. */
export interface ShownEvent {
  key: string;
  when: string;
  object: string;
  type: string;
  reason: string;
  message: string;
  count: number;
}

/**
 * The `limit` most recent of `events` (core v1 Events), newest first: by lastTimestamp, else
 * eventTime (events.k8s.io writers), else when the Event was made.
 */
export function recentEvents(events: EventObj[], limit: number): ShownEvent[] {
  const shown = events.map((e) => ({
    key: `${e.metadata.namespace ?? ''}/${e.metadata.name}`,
    when: String(e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp ?? ''),
    object: String(e.involvedObject?.name ?? ''),
    type: String(e.type ?? ''),
    reason: String(e.reason ?? ''),
    message: String(e.message ?? ''),
    count: typeof e.count === 'number' && e.count > 1 ? e.count : 1,
  }));
  const at = (s: ShownEvent) => Date.parse(s.when) || 0;
  return shown.sort((a, b) => at(b) - at(a) || a.key.localeCompare(b.key)).slice(0, limit);
}
