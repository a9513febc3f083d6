// samples.gif: the frames of a run as one looping animation. Each frame is encoded once, when it
// is taken, as a self-contained piece (its own colour table and LZW data, by gifenc); the file is
// those pieces behind a screen header, so rewriting it at every checkpoint costs a copy.

import * as gifencModule from 'gifenc';
import type { Palette } from 'gifenc';
import type { Rgba } from '../viz/image.ts';

// gifenc ships CommonJS to Node (its functions on the default export) and ESM to bundlers.
const gifenc = ('GIFEncoder' in gifencModule ? gifencModule : (gifencModule as unknown as { default: typeof gifencModule }).default) as typeof gifencModule;

/** A picture as at most 256 colours and one colour index per pixel. */
export interface IndexedPicture {
  width: number;
  height: number;
  /** [r, g, b] bytes, at most 256 entries. */
  palette: Palette;
  index: Uint8Array;
  /** True when the palette holds every colour of the picture (no quantisation). */
  exact: boolean;
}

/**
 * The picture's colours as a palette: exact when it has at most 256 (sample pictures of every
 * kind but colour images do: gray digits, plots), else quantised by gifenc. Alpha is dropped
 * (sample pictures are opaque). Colours are numbered in the order they first appear, so the same
 * picture always gives the same bytes.
 */
export function indexColors(img: Rgba): IndexedPicture {
  const pixels = img.width * img.height;
  const bytes = img.data.byteOffset % 4 === 0 ? img.data : img.data.slice();
  const rgba = new Uint32Array(bytes.buffer, bytes.byteOffset, pixels);
  const index = new Uint8Array(pixels);
  const seen = new Map<number, number>();
  const palette: Palette = [];
  let last = -1;
  let lastIndex = 0;
  for (let i = 0; i < pixels; i++) {
    const rgb = rgba[i] & 0xffffff;
    // Pictures are runs of one colour: the previous pixel's colour is the usual answer.
    if (rgb !== last) {
      let k = seen.get(rgb);
      if (k === undefined) {
        if (palette.length === 256) return quantized(img);
        k = palette.length;
        seen.set(rgb, k);
        palette.push([img.data[i * 4], img.data[i * 4 + 1], img.data[i * 4 + 2]]);
      }
      last = rgb;
      lastIndex = k;
    }
    index[i] = lastIndex;
  }
  return { width: img.width, height: img.height, palette, index, exact: true };
}

function quantized(img: Rgba): IndexedPicture {
  const opaque = new Uint8Array(img.data);
  for (let i = 3; i < opaque.length; i += 4) opaque[i] = 255;
  const palette = gifenc.quantize(opaque, 256);
  return { width: img.width, height: img.height, palette, index: gifenc.applyPalette(opaque, palette), exact: false };
}

/** One encoded frame: a graphic control extension, an image descriptor with its colour table, and LZW data. */
export interface GifFrame {
  width: number;
  height: number;
  bytes: Uint8Array;
}

/** Encodes one frame on its own, with its own colour table, for assembleGif. */
export function gifFrame(picture: IndexedPicture): GifFrame {
  const stream = gifenc.GIFEncoder({ auto: false, initialCapacity: picture.index.length >> 1 });
  stream.writeFrame(picture.index, picture.width, picture.height, { palette: picture.palette, first: false, delay: 0 });
  const bytes = stream.bytes();
  // The delay is set when the file is assembled; it sits in the graphic control extension the
  // piece starts with (0x21 0xF9, 4 bytes of data: flags, delay low, delay high, transparency).
  if (bytes[0] !== 0x21 || bytes[1] !== 0xf9 || bytes[2] !== 4) throw new Error('gifFrame: the encoder did not start the frame with a graphic control extension');
  return { width: picture.width, height: picture.height, bytes };
}

export interface GifTiming {
  /** Milliseconds each frame shows (GIF counts hundredths of a second). */
  frameMs: number;
  /** Milliseconds the last frame shows before the loop starts again. */
  lastFrameMs: number;
}

export const DEFAULT_TIMING: GifTiming = { frameMs: 120, lastFrameMs: 2000 };

/**
 * A looping GIF of `frames`, in order. Every frame must have the first one's size (the screen's);
 * the caller leaves out any that does not.
 */
export function assembleGif(frames: readonly GifFrame[], timing: GifTiming = DEFAULT_TIMING): Uint8Array {
  if (!frames.length) throw new RangeError('assembleGif: no frames');
  const { width, height } = frames[0];
  const odd = frames.findIndex((f) => f.width !== width || f.height !== height);
  if (odd >= 0) throw new RangeError(`assembleGif: frame ${odd} is ${frames[odd].width}x${frames[odd].height}, the screen ${width}x${height}`);
  const header = [
    ...'GIF89a'.split('').map((c) => c.charCodeAt(0)),
    // Logical screen: size, no global colour table (every frame brings its own), 8-bit colour.
    width & 0xff, width >> 8, height & 0xff, height >> 8, 0x70, 0, 0,
    // NETSCAPE2.0 application extension: loop forever.
    0x21, 0xff, 11, ...'NETSCAPE2.0'.split('').map((c) => c.charCodeAt(0)), 3, 1, 0, 0, 0,
  ];
  const size = header.length + frames.reduce((n, f) => n + f.bytes.length, 0) + 1;
  const out = new Uint8Array(size);
  out.set(header, 0);
  let at = header.length;
  frames.forEach((f, i) => {
    out.set(f.bytes, at);
    const hundredths = Math.round((i === frames.length - 1 ? timing.lastFrameMs : timing.frameMs) / 10);
    out[at + 4] = hundredths & 0xff;
    out[at + 5] = (hundredths >> 8) & 0xff;
    at += f.bytes.length;
  });
  out[at] = 0x3b; // trailer
  return out;
}
