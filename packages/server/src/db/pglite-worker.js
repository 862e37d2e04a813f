// The PGlite thread's entry (pglite.ts starts it). Node runs JavaScript only: like bin/syncdeck.js,
// it loads tsx, then the TypeScript that serves the thread.
import { register } from 'tsx/esm/api';

register();
await import('./pglite-thread.ts');
