import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from './clock.ts';
import { errorMessage } from './errors.ts';
import type { AnyObject, KubeClient } from './kube/client.ts';
import { Resources } from './kube/resource.ts';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  /** Records an event about `regarding`; reasons are the condition reasons. Never throws. */
  event(regarding: AnyObject, type: EventType, reason: string, note: string, action?: string): void;
}

/**
 * Writes events.k8s.io/v1 Events. The same (object, type, reason, note) is written once
 * per `dedupeMs` window, so a reconcile loop that keeps failing does not flood the API.
 * Events about cluster-scoped objects go to the `default` namespace: the API server
 * refuses them anywhere else (core/validation/events.go).
 */
export class KubeEventRecorder implements EventRecorder {
  private readonly recent = new Map<string, number>();
  private readonly client: KubeClient;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly opts: { controller: string; instance: string; dedupeMs: number };

  constructor(client: KubeClient, clock: Clock, log: Logger, opts: { controller?: string; instance: string; dedupeMs?: number }) {
    this.client = client;
    this.clock = clock;
    this.log = log;
    this.opts = {
      controller: opts.controller ?? 'miniapps.dev/operator',
      instance: opts.instance,
      dedupeMs: opts.dedupeMs ?? 5 * 60_000,
    };
  }

  event(regarding: AnyObject, type: EventType, reason: string, note: string, action = 'Reconcile'): void {
    const now = this.clock.now();
    const m = regarding.metadata;
    const dedupeKey = `${m.uid}\u0000${type}\u0000${reason}\u0000${note}`;
    const last = this.recent.get(dedupeKey);
    if (last !== undefined && now.getTime() - last < this.opts.dedupeMs) return;
    this.recent.set(dedupeKey, now.getTime());
    if (this.recent.size > 10_000) this.prune(now.getTime());
    const namespace = m.namespace ?? 'default';
    const body = {
      metadata: { name: `${m.name}.${randomBytes(8).toString('hex')}`, namespace },
      eventTime: now.toISOString().replace('Z', '000Z'),
      reportingController: this.opts.controller,
      reportingInstance: this.opts.instance,
      action,
      reason,
      note: note.length > 1024 ? `${note.slice(0, 1021)}...` : note,
      type,
      regarding: { apiVersion: regarding.apiVersion, kind: regarding.kind, name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion },
    };
    this.client.create(Resources.Event, body).catch((err: unknown) => {
      this.log.warn({ err: errorMessage(err), reason, object: m.name }, 'Event not recorded');
    });
  }

  private prune(now: number): void {
    for (const [k, t] of this.recent) if (now - t >= this.opts.dedupeMs) this.recent.delete(k);
  }
}
