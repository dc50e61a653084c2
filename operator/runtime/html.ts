// The project's own HTML pages (the invitation acceptance page, the identity provider's
// sign-in, reset and device pages, and the emails built from them): one look, one escape.
// Self-contained: no script, no external asset, one inline style that a strict
// Content-Security-Policy allows by its hash (PAGE_STYLE_SOURCE). No library, so that whoever
// renders a page (the User controller's set-password email) loads nothing else.
import { createHash } from 'node:crypto';

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const PAGE_STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f5f7;color:#1a1a1a;margin:0;line-height:1.5}
main{max-width:32rem;margin:4rem auto;padding:2rem;background:#fff;border-radius:.75rem;box-shadow:0 1px 4px rgba(0,0,0,.12)}
h1{font-size:1.5rem;margin:0 0 1rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.5rem 1.25rem;margin:1.5rem 0}
dt{color:#555}dd{margin:0;font-weight:600;overflow-wrap:anywhere}
button{font:inherit;font-weight:600;color:#fff;background:#1d4ed8;border:0;border-radius:.5rem;padding:.75rem 1.5rem;cursor:pointer}
button:hover{background:#1e40af}button:focus-visible{outline:3px solid #93c5fd;outline-offset:2px}
button.secondary{color:#1d4ed8;background:#fff;border:1px solid #1d4ed8}button.secondary:hover{background:#eff6ff}
a{color:#1d4ed8}
.note{color:#555;font-size:.9rem}
h2{font-size:1.15rem;margin:1.75rem 0 .5rem}
label{display:block;margin:.75rem 0 .25rem;color:#333}
input{font:inherit;width:100%;box-sizing:border-box;padding:.5rem;border:1px solid #bbb;border-radius:.375rem}
input[readonly]{background:#eee}
form button{margin-top:1rem}
.error{color:#b91c1c;font-weight:600}
code{background:#f1f1f1;padding:.1rem .3rem;border-radius:.25rem;overflow-wrap:anywhere}
`;

/** The `style-src` source that allows the pages' style and nothing else. */
export const PAGE_STYLE_SOURCE = `'sha256-${createHash('sha256').update(PAGE_STYLE).digest('base64')}'`;

/** A whole page: `title` as its title and heading, `content` (HTML the caller escaped) in one card. */
export function htmlPage(title: string, content: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${content}
</main>
</body>
</html>
`;
}
