// The part of gifenc 1.0.3 (an untyped JavaScript package) that the GIF writer uses.

declare module 'gifenc' {
  /** Colours as [r, g, b] bytes. */
  export type Palette = number[][];

  export interface GifFrameOptions {
    palette?: Palette;
    /** Writes the screen descriptor and a global colour table (manual mode). */
    first?: boolean;
    /** Milliseconds. */
    delay?: number;
    repeat?: number;
    transparent?: boolean;
    transparentIndex?: number;
    dispose?: number;
  }

  export interface GifStream {
    writeHeader(): void;
    writeFrame(index: Uint8Array, width: number, height: number, opts?: GifFrameOptions): void;
    finish(): void;
    bytes(): Uint8Array;
    bytesView(): Uint8Array;
  }

  export function GIFEncoder(opts?: { auto?: boolean; initialCapacity?: number }): GifStream;
  export function quantize(rgba: Uint8Array | Uint8ClampedArray, maxColors: number, options?: { format?: 'rgb565' | 'rgb444' | 'rgba4444' }): Palette;
  export function applyPalette(rgba: Uint8Array | Uint8ClampedArray, palette: Palette, format?: 'rgb565' | 'rgb444' | 'rgba4444'): Uint8Array;
  export default GIFEncoder;
}
