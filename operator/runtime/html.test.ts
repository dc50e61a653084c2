import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { escapeHtml, htmlPage, PAGE_STYLE_SOURCE } from './html.ts';

describe('the pages’ shell', () => {
  it('allows by hash exactly the style it inlines (a changed style with a stale hash would render unstyled under the CSP)', () => {
    const html = htmlPage('Sign in', '<p>x</p>');
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    expect(PAGE_STYLE_SOURCE).toBe(`'sha256-${createHash('sha256').update(style).digest('base64')}'`);
    expect(html.match(/<style>/g)).toHaveLength(1);
  });

  it('escapes the title, and nothing else is added to the content', () => {
    const html = htmlPage('<b>"x"</b>', '<p>kept</p>');
    expect(html).toContain('<title>&lt;b&gt;&quot;x&quot;&lt;/b&gt;</title>');
    expect(html).toContain('<h1>&lt;b&gt;&quot;x&quot;&lt;/b&gt;</h1>\n<p>kept</p>');
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
  });
});
