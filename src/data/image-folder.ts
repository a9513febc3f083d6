// A folder of PNG/JPEG pictures as one [count, height, width, channels] byte array. Files are
// added one at a time (in the order the caller lists them: sorted by name) and kept only at
// their final size, so a folder of large photos cropped to small squares never holds the
// photos all at once. Channels: 1 (luma, ITU-R BT.601: 0.299 R + 0.587 G + 0.114 B) or 3, as
// asked; by default 3 if any picture has a pixel whose R, G and B differ, else 1.

import { decodeImage } from '../io/decode-image.ts';
import type { Dataset, LoadOptions } from './dataset.ts';
import { DataError } from './idx.ts';
import { cropResize } from './resize.ts';

/** The largest --image-size accepted: far above what an MLP GAN trains on, small enough to catch typos. */
export const MAX_IMAGE_SIZE = 4096;

const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'];

/** Whether a file name is a picture the folder loader reads (by extension, any case). */
export function isImageName(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

/** Code-unit order: the same on every machine and in every locale, unlike localeCompare. */
export function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function checkImageOptions(opts: LoadOptions, source: string): void {
  const { imageSize, channels } = opts;
  if (imageSize !== undefined && !(Number.isInteger(imageSize) && imageSize >= 1 && imageSize <= MAX_IMAGE_SIZE)) {
    throw new DataError(`${source}: image size ${imageSize} must be an integer from 1 to ${MAX_IMAGE_SIZE} (--image-size)`);
  }
  if (channels !== undefined && channels !== 1 && channels !== 3) {
    throw new DataError(`${source}: channels ${channels} must be 1 (gray) or 3 (RGB) (--channels)`);
  }
}

function luma(rgb: Uint8Array): Float64Array {
  const out = new Float64Array(rgb.length / 3);
  for (let i = 0; i < out.length; i++) out[i] = 0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2];
  return out;
}

function roundBytes(v: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = Math.min(255, Math.max(0, Math.round(v[i])));
  return out;
}

export class ImageStack {
  private readonly pictures: Uint8Array[] = [];
  private first: { name: string; width: number; height: number } | undefined;
  private colour = false;

  constructor(
    private readonly source: string,
    private readonly opts: LoadOptions = {},
  ) {
    checkImageOptions(opts, source);
  }

  get count(): number {
    return this.pictures.length;
  }

  /** Decodes one picture and keeps it at its final size; `name` is for messages. */
  add(name: string, bytes: Uint8Array): void {
    const image = decodeImage(bytes, name);
    const { width, height } = image;
    const size = this.opts.imageSize;
    if (!this.first) this.first = { name, width, height };
    else if (size === undefined && (width !== this.first.width || height !== this.first.height)) {
      throw new DataError(
        `${this.source}: images differ in size: ${this.first.name} is ${this.first.width}x${this.first.height}, ` +
          `${name} is ${width}x${height}; pass --image-size N to crop and scale every image to N x N`,
      );
    }
    this.colour ||= image.colour;
    // One rounding to bytes: gray is computed in float and resized before rounding.
    const gray = this.opts.channels === 1;
    const pixels = gray ? luma(image.rgb) : image.rgb;
    const channels = gray ? 1 : 3;
    if (size !== undefined) this.pictures.push(cropResize(pixels, width, height, channels, size));
    else this.pictures.push(gray ? roundBytes(pixels) : image.rgb);
  }

  /** The data set; `skipped` lists the folder's entries that are not pictures. */
  finish(skipped: string[] = []): Dataset {
    if (!this.first) throw new DataError(`${this.source}: no .png, .jpg or .jpeg images`);
    const channels = this.opts.channels ?? (this.colour ? 3 : 1);
    const side = this.opts.imageSize;
    const height = side ?? this.first.height;
    const width = side ?? this.first.width;
    const pixels = height * width;
    const values = new Uint8Array(this.pictures.length * pixels * channels);
    this.pictures.forEach((picture, n) => {
      if (picture.length === pixels * channels) values.set(picture, n * pixels * channels);
      else {
        // Kept as RGB, all gray: R = G = B, so the red channel is the gray value exactly.
        for (let i = 0; i < pixels; i++) values[(n * pixels + i) * channels] = picture[3 * i];
      }
    });
    return { source: this.source, format: 'images', shape: [height, width, channels], count: this.pictures.length, values, skipped };
  }
}
