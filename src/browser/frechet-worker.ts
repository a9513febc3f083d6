// The worker that computes Fréchet distances for the page (frechet.ts).

import { serveFrechet } from './frechet.ts';

serveFrechet(self as unknown as Parameters<typeof serveFrechet>[0]);
