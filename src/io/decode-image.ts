// PNG and JPEG files decoded to 8-bit RGB (fast-png and jpeg-js: pure JS, the same in Node and
// the browser). Every PNG flavour ends up the same way: palettes expanded, 1/2/4-bit grays
// scaled up, 16-bit samples scaled down, and alpha (an alpha channel, or a tRNS palette or
// colour key) composited onto black, so a transparent pixel reads as background, as 0 does in
// MNIST. The decoder is chosen by the file's signature, not its name.

import { decode as decodePngFile, type DecodedPng } from 'fast-png';
import { decode as decodeJpegFile } from 'jpeg-js';
import { DataError } from '../data/idx.ts';

export interface RgbImage {
  width: number;
  height: number;
  /** [height, width, 3] bytes, row-major. */
  rgb: Uint8Array;
  /** Some pixel has R, G and B not all equal. */
  colour: boolean;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function isPng(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/** Decodes a PNG or JPEG; `name` appears in every error. */
export function decodeImage(bytes: Uint8Array, name: string): RgbImage {
  let image: Omit<RgbImage, 'colour'>;
  if (isPng(bytes)) {
    let png: DecodedPng;
    try {
      png = decodePngFile(bytes, { checkCrc: true });
    } catch (e) {
      throw new DataError(`${name}: cannot decode this PNG (${(e as Error).message}; a corrupt or truncated file?)`);
    }
    image = pngToRgb(png, name);
  } else if (isJpeg(bytes)) {
    try {
      // Tolerant decoding would return a half-grey picture for a truncated file.
      const jpeg = decodeJpegFile(bytes, { useTArray: true, formatAsRGBA: false, tolerantDecoding: false });
      image = { width: jpeg.width, height: jpeg.height, rgb: jpeg.data };
    } catch (e) {
      throw new DataError(`${name}: cannot decode this JPEG (${(e as Error).message}; a corrupt or truncated file?)`);
    }
  } else {
    throw new DataError(`${name}: not a PNG or JPEG file (its first bytes are neither signature)`);
  }
  if (image.width < 1 || image.height < 1) throw new DataError(`${name}: the image is ${image.width}x${image.height}`);
  if (image.rgb.length !== image.width * image.height * 3) {
    throw new DataError(`${name}: decoded ${image.rgb.length} bytes for a ${image.width}x${image.height} RGB image (corrupt file)`);
  }
  return { ...image, colour: hasColour(image.rgb) };
}

function hasColour(rgb: Uint8Array): boolean {
  for (let i = 0; i < rgb.length; i += 3) if (rgb[i] !== rgb[i + 1] || rgb[i] !== rgb[i + 2]) return true;
  return false;
}

/** Samples of one row of a PNG, unpacked from 1/2/4-bit fields when the depth is below 8. */
function unpackRow(png: DecodedPng, y: number, samplesPerRow: number, out: Uint32Array): void {
  const { data, depth, width, channels } = png;
  if (depth >= 8) {
    out.set(data.subarray(y * samplesPerRow, (y + 1) * samplesPerRow));
    return;
  }
  const rowBytes = Math.ceil((width * channels * depth) / 8);
  const mask = (1 << depth) - 1;
  for (let s = 0; s < samplesPerRow; s++) {
    const bit = s * depth;
    out[s] = (data[y * rowBytes + (bit >> 3)] >> (8 - depth - (bit & 7))) & mask;
  }
}

function pngToRgb(png: DecodedPng, name: string): Omit<RgbImage, 'colour'> {
  const { width, height, channels, depth } = png;
  const rgb = new Uint8Array(width * height * 3);
  const samplesPerRow = width * channels;
  const row = new Uint32Array(samplesPerRow);
  const palette = png.palette;
  if (palette && channels === 1) {
    // Indexed colour: entries are [r, g, b] or, with a tRNS chunk, [r, g, b, a] (8-bit).
    for (let y = 0; y < height; y++) {
      unpackRow(png, y, samplesPerRow, row);
      for (let x = 0; x < width; x++) {
        const entry = palette[row[x]];
        if (!entry) throw new DataError(`${name}: pixel (${x}, ${y}) uses palette index ${row[x]}, the palette has ${palette.length} colours`);
        const alpha = entry.length > 3 ? entry[3] / 255 : 1;
        for (let c = 0; c < 3; c++) rgb[(y * width + x) * 3 + c] = Math.round(entry[c] * alpha);
      }
    }
    return { width, height, rgb };
  }
  const max = 2 ** depth - 1;
  const hasAlpha = channels === 2 || channels === 4;
  const colourChannels = hasAlpha ? channels - 1 : channels;
  if (colourChannels !== 1 && colourChannels !== 3) throw new DataError(`${name}: a PNG with ${channels} channels`);
  // A tRNS chunk on a gray or RGB image names one colour that is fully transparent.
  const key = !hasAlpha && png.transparency && png.transparency.length === colourChannels ? png.transparency : undefined;
  for (let y = 0; y < height; y++) {
    unpackRow(png, y, samplesPerRow, row);
    for (let x = 0; x < width; x++) {
      const s = x * channels;
      let alpha = hasAlpha ? row[s + colourChannels] / max : 1;
      if (key && (colourChannels === 1 ? row[s] === key[0] : row[s] === key[0] && row[s + 1] === key[1] && row[s + 2] === key[2])) alpha = 0;
      for (let c = 0; c < 3; c++) {
        const v = row[s + (colourChannels === 1 ? 0 : c)];
        rgb[(y * width + x) * 3 + c] = Math.round((v / max) * alpha * 255);
      }
    }
  }
  return { width, height, rgb };
}
