// Writes configs/schema.json, the JSON Schema of a config file, from the one config definition
// (src/train/config.ts), so editors can validate and complete config files:
//   npm run schema
// test/cli/config-schema.test.ts fails when the committed file differs from what this writes.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configFileSchemaText } from '../src/cli/config.ts';

const out = fileURLToPath(new URL('../configs/schema.json', import.meta.url));
writeFileSync(out, configFileSchemaText());
process.stdout.write(`wrote ${out}\n`);
