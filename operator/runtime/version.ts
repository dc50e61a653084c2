// The project's version, as package.json says (the image, the chart's appVersion and the
// plugin print the same).
import { readFileSync } from 'node:fs';

export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
