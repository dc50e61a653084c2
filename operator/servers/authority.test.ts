import { describe, expect, it } from 'vitest';
import type { Clock } from '../runtime/clock.ts';
import { AccessDecisions, HttpError, KubeAuthority } from './authority.ts';
import type { ReviewRequester } from './authority.ts';

class FakeClock implements Clock {
  private t = Date.parse('2030-01-01T00:00:00Z');
  now = () => new Date(this.t);
  advance(ms: number): void {
    this.t += ms;
  }
}

/** An API server that knows the tokens `good-*`, counting the TokenReviews it answers. */
function apiServer() {
  const asked: string[] = [];
  const client: ReviewRequester = {
    request: (async (_method: string, _path: string, opts?: { body?: { spec?: { token?: string } } }) => {
      const token = opts!.body!.spec!.token!;
      asked.push(token);
      return token.startsWith('good-') ? { status: { authenticated: true, user: { username: `user-${token}` } } } : { status: { authenticated: false } };
    }) as ReviewRequester['request'],
  };
  return { client, asked };
}

describe("the authority of the APIs' callers", () => {
  it('random tokens cannot push a known caller out: refusals are remembered apart', async () => {
    const { client, asked } = apiServer();
    const authority = new KubeAuthority(client, { maxEntries: 10, maxNegativeEntries: 10, perAddress: { perMinute: 1e9, burst: 1e9 } });
    expect(await authority.authenticate('good-gateway', undefined, '10.0.0.1')).toEqual({ username: 'user-good-gateway' });
    for (let i = 0; i < 1_000; i++) expect(await authority.authenticate(`random-${i}`, undefined, '10.0.0.2')).toBeUndefined();
    asked.length = 0;
    expect(await authority.authenticate('good-gateway', undefined, '10.0.0.1')).toEqual({ username: 'user-good-gateway' });
    expect(asked).toEqual([]);
  });

  it('a refused token sent again within the negative ttl costs no review; after it, one', async () => {
    const { client, asked } = apiServer();
    const clock = new FakeClock();
    const authority = new KubeAuthority(client, { clock, negativeTtlMs: 2_000 });
    await authority.authenticate('bad', undefined, '10.0.0.1');
    await authority.authenticate('bad', undefined, '10.0.0.1');
    expect(asked).toEqual(['bad']);
    clock.advance(2_001);
    await authority.authenticate('bad', undefined, '10.0.0.1');
    expect(asked).toEqual(['bad', 'bad']);
  });

  it('tokens it does not know cost their address a budget: 429 beyond it, with Retry-After, and no review', async () => {
    const { client, asked } = apiServer();
    const authority = new KubeAuthority(client, { clock: new FakeClock(), perAddress: { perMinute: 60, burst: 3 } });
    await authority.authenticate('good-known', undefined, '10.0.0.1');
    for (let i = 0; i < 2; i++) await authority.authenticate(`random-${i}`, undefined, '10.0.0.1');
    const refused = await authority.authenticate('random-x', undefined, '10.0.0.1').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(HttpError);
    expect(refused).toMatchObject({ status: 429, headers: { 'retry-after': '1' } });
    expect(asked).not.toContain('random-x');
    // A known token still passes from that address; another address has its own budget.
    expect(await authority.authenticate('good-known', undefined, '10.0.0.1')).toBeTruthy();
    expect(await authority.authenticate('good-other', undefined, '10.0.0.2')).toBeTruthy();
  });
});

describe('finding 2: the review budget never queues, and keeps a reserve for the renewals of known callers', () => {
  it("a flood of unknown tokens from many addresses is refused at once (503, nothing sent) beyond the budget; a known caller's renewal still goes through", async () => {
    const { client, asked } = apiServer();
    const clock = new FakeClock();
    const ms = 0;
    const authority = new KubeAuthority(client, { clock, now: () => ms, budget: { qps: 10, burst: 20 }, perAddress: { perMinute: 1e9, burst: 1e9 }, cacheTtlMs: 10_000 });
    expect(await authority.authenticate('good-gateway', undefined, '10.0.0.1')).toBeTruthy();
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        authority.authenticate(`random-${i}`, undefined, `10.1.${i}.1`).then(
          () => 'answered',
          (e: HttpError) => e.status,
        ),
      ),
    );
    // 20 - 1 (the gateway) - 5 (the reserve) answered; every other one refused at once.
    expect(answers.filter((a) => a === 'answered')).toHaveLength(14);
    expect(answers.filter((a) => a === 503)).toHaveLength(186);
    expect(asked).toHaveLength(15);
    const refused = await authority.authenticate('random-late', undefined, '10.2.0.1').catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 503, headers: { 'retry-after': '1' } });
    // The gateway's answer is renewed from the reserve (half its ttl on): still answered, and renewed.
    clock.advance(6_000);
    asked.length = 0;
    expect(await authority.authenticate('good-gateway', undefined, '10.0.0.1')).toBeTruthy();
    await new Promise((r) => setImmediate(r));
    expect(asked).toEqual(['good-gateway']);
  });

  it('access reviews take the same budget; a renewal of a decision in use may use the reserve, new ones may not', async () => {
    let sent = 0;
    const client: ReviewRequester = { request: (async () => (sent++, { status: { allowed: true } })) as ReviewRequester['request'] };
    const authority = new KubeAuthority(client, { now: () => 0, budget: { qps: 1, burst: 8 } });
    const attrs = { verb: 'get', resource: 'miniapps', namespace: 'n', name: 'a' };
    for (let i = 0; i < 6; i++) await authority.allowed({ username: 'u' }, attrs);
    await expect(authority.allowed({ username: 'u' }, attrs)).rejects.toMatchObject({ status: 503 });
    expect(await authority.allowed({ username: 'u' }, attrs, { renewal: true })).toBe(true);
    expect(sent).toBe(7);
  });
});

describe('AccessDecisions: one layer of cache over the authority', () => {
  it('remembers an allowed decision by user, groups and attributes, renews it in use, and can forget refusals at once', async () => {
    const clock = new FakeClock();
    const asked: string[] = [];
    let allow = true;
    const authority = {
      authenticate: async () => undefined,
      allowed: async (_c: unknown, a: { name: string }, how?: { renewal?: boolean }) => (asked.push(`${a.name}${how?.renewal ? ' (renewal)' : ''}`), allow),
    };
    const decisions = new AccessDecisions(authority, { ttlMs: 10_000, refusalTtlMs: 0, clock });
    const attrs = (name: string) => ({ verb: 'get', resource: 'miniapps', namespace: 'n', name });
    expect(await decisions.allowed({ username: 'u' }, attrs('a'))).toBe(true);
    expect(await decisions.allowed({ username: 'u' }, attrs('a'))).toBe(true);
    expect(await decisions.allowed({ username: 'u', groups: ['g'] }, attrs('a'))).toBe(true);
    expect(asked).toEqual(['a', 'a']);
    clock.advance(6_000);
    allow = false;
    expect(await decisions.allowed({ username: 'u' }, attrs('a'))).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(asked.at(-1)).toBe('a (renewal)');
    expect(await decisions.allowed({ username: 'u' }, attrs('a'))).toBe(false);
    await decisions.allowed({ username: 'u' }, attrs('a'));
    expect(asked.filter((x) => x === 'a')).toHaveLength(4); // each refusal asked again
  });
});

describe("finding 12: one caller's choice of names cannot push out another caller's decisions", () => {
  it('a caller churning the cache with names of its own choosing evicts only its own decisions', async () => {
    const asked: string[] = [];
    const authority = { authenticate: async () => undefined, allowed: async (c: { username: string }, a: { name: string }) => (asked.push(`${c.username} ${a.name}`), true) };
    const decisions = new AccessDecisions(authority, { maxEntries: 100 });
    const attrs = (name: string) => ({ verb: 'get', resource: 'users', subresource: 'tokenroles', namespace: 'n', name });
    for (let i = 0; i < 10; i++) await decisions.allowed({ username: 'gateway' }, attrs(`user-${i}`));
    for (let i = 0; i < 1_000; i++) await decisions.allowed({ username: 'churner' }, attrs(`random-${i}`));
    asked.length = 0;
    for (let i = 0; i < 10; i++) await decisions.allowed({ username: 'gateway' }, attrs(`user-${i}`));
    expect(asked).toEqual([]);
  });
});
