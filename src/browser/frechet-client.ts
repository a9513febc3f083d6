// The page's side of the Fréchet distance worker (frechet.ts, frechet-worker.ts): posts work
// and resolves with the answers, so the main thread never runs the eigen-decompositions.

import type { GaussianStats } from '../eval/frechet.ts';
import type { FrechetReply, FrechetRequest } from './frechet.ts';

/** The page's side: posts work to the worker and resolves with its answers, in any order. */
export class FrechetWorker {
  private readonly worker: Worker;
  private next = 0;
  private readonly waiting = new Map<number, { resolve: (v: number) => void; reject: (e: Error) => void }>();

  constructor() {
    this.worker = new Worker(new URL('./frechet-worker.ts', import.meta.url), { type: 'module' });
    this.worker.onmessage = (e: MessageEvent<FrechetReply>) => {
      const w = this.waiting.get(e.data.id);
      this.waiting.delete(e.data.id);
      if (e.data.error !== undefined) w?.reject(new Error(`Fréchet distance: ${e.data.error}`));
      else w?.resolve(e.data.value ?? NaN);
    };
    this.worker.onerror = (e) => {
      for (const w of this.waiting.values()) w.reject(new Error(`the Fréchet distance worker failed: ${e.message}`));
      this.waiting.clear();
    };
  }

  /** Sets the real side (its square root is computed in the worker). */
  setReal(stats: GaussianStats): Promise<number> {
    return this.post({ id: this.next++, kind: 'real', stats });
  }

  distance(features: Float32Array): Promise<number> {
    return this.post({ id: this.next++, kind: 'distance', features }, [features.buffer]);
  }

  terminate(): void {
    this.worker.terminate();
  }

  private post(request: FrechetRequest, transfer: Transferable[] = []): Promise<number> {
    return new Promise((resolve, reject) => {
      this.waiting.set(request.id, { resolve, reject });
      this.worker.postMessage(request, transfer);
    });
  }
}

