/**
 * The package's version, read from `package.json` at run time so that there is one source of it.
 * `package.json` sits two folders above this module both in the sources (`src/util/`) and in the
 * compiled package (`dist/util/`), and npm always ships it.
 */
import { readFileSync } from 'node:fs';

export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
