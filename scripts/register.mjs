// Lets plain Node run the TypeScript sources: tsx compiles .ts, and `?raw` imports
// (how the engine loads its WGSL, the same way vite does in the browser) become strings.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
register('./raw-hooks.mjs', import.meta.url);
