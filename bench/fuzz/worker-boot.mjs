// Worker entry: workers do not inherit the parent's `--import tsx` loader, so register it here
// before loading the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
