// Encoding a frame for samples/ and for samples.gif, in Node. Its colours are indexed once for
// both; a picture with at most 256 colours (all but colour images) is a palette PNG. The PNG is
// written here with Node's zlib: native deflate takes a fifth to a tenth of the time of the
// JavaScript deflate behind fast-png, which counts beside training on a CPU adapter.

import { crc32, deflateSync } from 'node:zlib';
import type { Rgba } from '../viz/image.ts';
import { gifFrame, indexColors, type GifFrame, type IndexedPicture } from './gif.ts';

export interface EncodedFrame {
  iteration: number;
  png: Uint8Array;
  gif: GifFrame;
}

/** Encodes a frame's picture as PNG bytes and as a GIF piece. */
export function encodeFrame(iteration: number, picture: Rgba): EncodedFrame {
  const indexed = indexColors(picture);
  return { iteration, png: indexed.exact ? palettePng(indexed) : rgbaPng(picture), gif: gifFrame(indexed) };
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** A PNG of rows of `bytesPerPixel` bytes, each row behind filter byte 0 (none). */
function png(width: number, height: number, colourType: 3 | 6, pixels: Uint8Array, bytesPerPixel: number, palette?: number[][]): Uint8Array {
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, colourType, 0, 0, 0], 8); // 8 bits, colour type, deflate, filter method 0, no interlace
  const stride = width * bytesPerPixel;
  const rows = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) rows.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  const chunks = [chunk('IHDR', header)];
  if (palette) chunks.push(chunk('PLTE', Uint8Array.from(palette.flatMap((c) => [c[0], c[1], c[2]]))));
  chunks.push(chunk('IDAT', deflateSync(rows)), chunk('IEND', new Uint8Array(0)));
  const out = new Uint8Array(SIGNATURE.length + chunks.reduce((n, c) => n + c.length, 0));
  out.set(SIGNATURE);
  let at = SIGNATURE.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function palettePng(p: IndexedPicture): Uint8Array {
  return png(p.width, p.height, 3, p.index, 1, p.palette);
}

function rgbaPng(img: Rgba): Uint8Array {
  return png(img.width, img.height, 6, new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength), 4);
}
