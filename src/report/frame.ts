// A frame: the fixed-noise sample picture at one iteration, kept as samples/iter-NNNNNNNNNN.png
// and as a piece of samples.gif. Its colours are indexed once for both: pictures with at most
// 256 colours (all but colour images) are stored as palette PNGs, a quarter of the bytes to
// compress, which keeps taking a frame cheap beside training.

import { encode } from 'fast-png';
import { decodeImage } from '../io/decode-image.ts';
import type { Rgba } from '../viz/image.ts';
import { gifFrame, indexColors, type GifFrame } from './gif.ts';

/** The folder of a run directory that holds the frames. */
export const FRAMES_DIR = 'samples';

const FRAME_NAME = /^iter-(\d{10})\.png$/;

/** samples/ file name of the frame at `iteration`, zero-padded so names sort as iterations do. */
export function frameFileName(iteration: number): string {
  return `iter-${String(iteration).padStart(10, '0')}.png`;
}

/** The iteration a frame file name stands for, or null for any other name. */
export function frameIteration(name: string): number | null {
  const m = FRAME_NAME.exec(name);
  return m ? Number(m[1]) : null;
}

export interface EncodedFrame {
  iteration: number;
  png: Uint8Array;
  gif: GifFrame;
}

/** Deflate level 3: half the time of the default 6 for 3% more bytes on an MNIST grid. */
const PNG_OPTIONS = { zlib: { level: 3 as const } };

/** Encodes a frame's picture as PNG bytes and as a GIF piece. */
export function encodeFrame(iteration: number, picture: Rgba): EncodedFrame {
  const indexed = indexColors(picture);
  const png = indexed.exact
    ? encode({ width: picture.width, height: picture.height, data: indexed.index, channels: 1, depth: 8, palette: indexed.palette }, PNG_OPTIONS)
    : encode({ width: picture.width, height: picture.height, data: new Uint8Array(picture.data.buffer, picture.data.byteOffset, picture.data.byteLength), channels: 4, depth: 8 }, PNG_OPTIONS);
  return { iteration, png, gif: gifFrame(indexed) };
}

/** A frame file read back (a resumed run's earlier frames) as a picture; errors name `name`. */
export function decodeFrame(png: Uint8Array, name: string): Rgba {
  const { width, height, rgb } = decodeImage(png, name);
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    data[i * 4] = rgb[i * 3];
    data[i * 4 + 1] = rgb[i * 3 + 1];
    data[i * 4 + 2] = rgb[i * 3 + 2];
    data[i * 4 + 3] = 255;
  }
  return { width, height, data };
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * Why PNG bytes are not a whole PNG file (a truncated write, another kind of file), or null when
 * their chunks run from the signature to IEND and end there. Cheap: it walks the chunk lengths
 * and reads no pixel.
 */
export function pngDamage(bytes: Uint8Array): string | null {
  if (bytes.length < 8 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) return bytes.length ? 'not a PNG file' : 'empty';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8;
  while (at + 12 <= bytes.length) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]);
    const end = at + 12 + length;
    if (end > bytes.length) return `cut short in its ${type} chunk (${bytes.length} bytes)`;
    if (type === 'IEND') return end === bytes.length ? null : `${bytes.length - end} bytes after its end`;
    at = end;
  }
  return `cut short: no IEND chunk (${bytes.length} bytes)`;
}
