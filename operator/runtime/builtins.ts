// Node built-ins whose ESM import costs memory the operator does not need.
//
// `import … from 'node:http'` makes Node build the module's ESM namespace, which reads
// every export, and http's WebSocket, CloseEvent and MessageEvent getters load the bundled
// undici (about 13 MB of RSS, for fetch and WebSocket that nothing here uses).
// process.getBuiltinModule returns the CommonJS module object, whose getters stay unread.
// app.imports.test.ts checks that starting the operator does not load undici.

/** node:http, without loading undici. Types: `import type … from 'node:http'`. */
export const http = process.getBuiltinModule('node:http');
