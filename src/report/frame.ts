// A frame: the fixed-noise sample picture at one iteration, kept as samples/iter-NNNNNNNNNN.png
// and as a piece of samples.gif (encoded by frame-node.ts). Here: the names, reading a frame
// back, and telling a whole PNG file from a damaged one.

import { decodeImage } from '../io/decode-image.ts';
import type { Rgba } from '../viz/image.ts';

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
