import { describe, expect, it } from 'vitest';
import type { Clock } from '../runtime/clock.ts';
import { HttpError, KubeAuthority } from './authority.ts';
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

describe('the authority of the APIs\' callers', () => {
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
