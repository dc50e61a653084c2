// The link an invitation carries is the path the acceptance page serves.
import { describe, expect, it } from 'vitest';
import { ACCEPT_PATH, acceptUrl } from './link.ts';

describe('the acceptance link', () => {
  it.each([
    ['https://apps.example.com', ACCEPT_PATH],
    ['https://apps.example.com/', ACCEPT_PATH],
    ['https://example.com/miniapps', `/miniapps${ACCEPT_PATH}`],
    ['https://example.com/miniapps/', `/miniapps${ACCEPT_PATH}`],
  ])('from %s goes to %s, the token in the query', (publicUrl, path) => {
    const url = new URL(acceptUrl(publicUrl, 'abc.def'));
    expect(url.pathname).toBe(path);
    expect(url.searchParams.get('token')).toBe('abc.def');
  });
});
