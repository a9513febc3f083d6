// Users' data sets: every format round-trips through temporary files, the examples load with
// their shapes (and are what scripts/make-examples.ts writes), and every bad input is one clear
// DataError naming the file (and the line and column for CSV). No GPU needed.

import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { encode as encodePngFile } from 'fast-png';
import { encode as encodeJpegFile } from 'jpeg-js';
import { describe, expect, test } from 'vitest';
import { EXAMPLES_DIR, SHAPE_COUNT, shapePngs, SPIRAL_POINTS, spiralCsv } from '../scripts/make-examples.ts';
import { loadDataset } from '../src/data/dataset-node.ts';
import { columnStats, datasetBytes, sizeLimitMessage, type Dataset, type LoadOptions } from '../src/data/dataset.ts';
import { DataError } from '../src/data/idx.ts';
import { cropResize } from '../src/data/resize.ts';
import { decodeNpy, encodeNpy, parseNpy } from '../src/io/npy.ts';

const root = mkdtempSync(join(tmpdir(), 'datasets-'));
let counter = 0;
/** A fresh temporary directory. */
function dir(): string {
  const d = join(root, `d${counter++}`);
  mkdirSync(d);
  return d;
}
/** Writes `contents` to a fresh file called `name` and returns its path. */
function file(name: string, contents: Uint8Array | string): string {
  const path = join(dir(), name);
  writeFileSync(path, contents);
  return path;
}
/** A folder holding the given files. */
function folder(files: Record<string, Uint8Array | string>): string {
  const d = dir();
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(d, name), bytes);
  return d;
}

async function refused(path: string, message: RegExp, opts?: LoadOptions): Promise<DataError> {
  const error = await loadDataset(path, opts).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `${path} should be refused`).toBeInstanceOf(DataError);
  expect((error as Error).message).toMatch(message);
  return error as DataError;
}

const range = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));

/** A .npy file written by hand: `header` is the dict text, padded as NumPy pads it. */
function npy(header: string, data: Uint8Array, version = 1): Uint8Array {
  const lengthBytes = version === 1 ? 2 : 4;
  const unpadded = 8 + lengthBytes + header.length + 1;
  const text = header + ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const headerBytes = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + lengthBytes + headerBytes.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, headerBytes.length, true);
  else view.setUint32(8, headerBytes.length, true);
  out.set(headerBytes, 8 + lengthBytes);
  out.set(data, 8 + lengthBytes + headerBytes.length);
  return out;
}
const bytesOf = (a: Float32Array | Float64Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** An unsigned-byte IDX file of the given shape. */
function idx(shape: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * shape.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x0800 | shape.length, false);
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * shape.length);
  return out;
}

/** RGB bytes of a w x h picture, each channel a different function of (x, y). */
function pattern(w: number, h: number, seed = 0): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) {
    out[3 * i] = (i * 7 + seed) % 256;
    out[3 * i + 1] = (i * 13 + 50 + seed) % 256;
    out[3 * i + 2] = (i * 29 + 100 + seed) % 256;
  }
  return out;
}
const png = (w: number, h: number, data: Uint8Array | Uint16Array, channels: number, depth: 8 | 16 = 8) => encodePngFile({ width: w, height: h, data, channels, depth });

/** Inserts a chunk into a PNG just before its first IDAT. */
function withChunk(pngBytes: Uint8Array, type: string, body: Uint8Array): Uint8Array {
  let at = 8;
  while (new TextDecoder().decode(pngBytes.subarray(at + 4, at + 8)) !== 'IDAT') at += 12 + new DataView(pngBytes.buffer, pngBytes.byteOffset).getUint32(at, false);
  const chunk = new Uint8Array(12 + body.length);
  const view = new DataView(chunk.buffer);
  view.setUint32(0, body.length, false);
  chunk.set(new TextEncoder().encode(type), 4);
  chunk.set(body, 8);
  view.setUint32(8 + body.length, crc32(chunk.subarray(4, 8 + body.length)), false);
  return new Uint8Array([...pngBytes.subarray(0, at), ...chunk, ...pngBytes.subarray(at)]);
}

describe('.npy', () => {
  test.each([
    [[5, 3], [3]],
    [[4], [1]],
    [[3, 4, 5], [4, 5, 1]],
    [[2, 3, 4, 3], [3, 4, 3]],
    [[1, 1, 1, 1], [1, 1, 1]],
  ])('shape %j: uint8 stays bytes, float32 stays float32; sample shape %j', async (shape, sample) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const u8 = Uint8Array.from(range(n, (i) => (i * 37) % 256));
    const f32 = Float32Array.from(range(n, (i) => Math.sin(i) * 1e3));
    const a = await loadDataset(file('u8.npy', encodeNpy(u8, shape)));
    expect(a).toMatchObject({ format: 'npy', shape: sample, count: shape[0] });
    expect(a.values).toBeInstanceOf(Uint8Array);
    expect(a.values).toEqual(u8);
    const b = await loadDataset(file('f32.npy', encodeNpy(f32, shape)));
    expect(b).toMatchObject({ shape: sample, count: shape[0] });
    expect(b.values).toBeInstanceOf(Float32Array);
    expect(b.values).toEqual(f32);
  });

  test('format versions 2.0 and 3.0, float64 (converted to float32), Python 2 long shapes, double quotes', async () => {
    const f32 = Float32Array.from([1.5, -2, 3.25, 4, 5, 6]);
    for (const version of [2, 3]) {
      const d = await loadDataset(file(`v${version}.npy`, npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", bytesOf(f32), version)));
      expect(d.shape).toEqual([2]);
      expect(d.values).toEqual(f32);
    }
    const f64 = Float64Array.from([0.1, 0.2, 0.3]);
    const parsed = parseNpy(npy('{"descr": "<f8", "fortran_order": False, "shape": (3L,)}', bytesOf(f64)), 'x.npy');
    expect(parsed).toMatchObject({ dtype: 'float32', shape: [3], converted: 'float64' });
    expect(parsed.data).toEqual(Float32Array.from(f64));
  });

  test('encodeNpy and decodeNpy still round-trip float32 (the sampler writes these)', () => {
    const data = Float32Array.from([1, 2, 3, 4, 5, 6]);
    expect(decodeNpy(encodeNpy(data, [2, 3]))).toEqual({ data, shape: [2, 3] });
    expect(decodeNpy(encodeNpy(Uint8Array.from([0, 255]), [2]))).toEqual({ data: Float32Array.from([0, 255]), shape: [2] });
  });

  const f4 = (shape: string) => `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  test.each([
    ['unsupported dtype', npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(8)), /dtype '<i4' is not supported.*astype\(np\.float32\)/],
    ['big-endian float32', npy("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(8)), /'>f4' is not supported \(big-endian/],
    ['a header that is not Python', npy("{'descr': '<f4', 'fortran_order': Fals", new Uint8Array(8)), /corrupt header/],
    ['a header that is not a dict', npy('(1, 2)', new Uint8Array(8)), /the header is not a dict/],
    ['a header without shape', npy("{'descr': '<f4', 'fortran_order': False}", new Uint8Array(8)), /keys \[descr, fortran_order\], expected exactly \[descr, fortran_order, shape\]/],
    ['a shape with a negative size', npy(f4('(-2, 1)'), new Uint8Array(8)), /must hold non-negative integers/],
    ['a shape that is not a tuple', npy(f4("'2'"), new Uint8Array(8)), /'shape' is "2", expected a tuple/],
    ['truncated data', npy(f4('(3, 2)'), new Uint8Array(20)), /needs 24 bytes of data, the file has 20 \(truncated file\)/],
    ['trailing data', npy(f4('(3, 2)'), new Uint8Array(28)), /needs 24 bytes of data, the file has 28 \(trailing bytes/],
    ['Fortran order', npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", new Uint8Array(16)), /Fortran \(column-major\) order.*ascontiguousarray/],
    ['a header length beyond the file', (() => {
      const b = encodeNpy(new Float32Array(2), [2]);
      new DataView(b.buffer).setUint16(8, 5000, true);
      return b;
    })(), /header length field says 5000 bytes, but only \d+ follow/],
    ['a wrong magic', new TextEncoder().encode('x,y\n1,2\n'), /not a \.npy file/],
    ['version 4.0', npy(f4('(2,)'), new Uint8Array(8), 4), /version 4\.0 is not one of/],
    ['no samples', npy(f4('(0, 3)'), new Uint8Array(0)), /holds no samples \(shape 0x3\)/],
    ['empty samples', npy(f4('(3, 0)'), new Uint8Array(0)), /empty samples/],
    ['a scalar', npy(f4('()'), new Uint8Array(4)), /a scalar/],
    ['five dimensions', npy(f4('(1, 1, 1, 1, 1)'), new Uint8Array(4)), /5 dimensions/],
    ['a NaN', encodeNpy(Float32Array.from([1, 2, 3, NaN]), [2, 2]), /sample 1 \(0-based; value 1 of it\) is NaN/],
  ])('%s is refused, naming the file', async (_, bytes, message) => {
    const path = file('bad.npy', bytes);
    const error = await refused(path, message);
    expect(error.message.startsWith(`${path}: `)).toBe(true);
  });
});

describe('CSV', () => {
  test('with a header, comments, CRLF, spaces, quotes and blank lines at the end', async () => {
    const d = await loadDataset(file('p.csv', '\uFEFF# made by hand\r\n"x", y ,z\r\n1,2,3\r\n# a comment between rows\r\n-4.5e1, .5 ,"6."\r\n+7,8E-1,9\r\n\r\n\n'));
    expect(d).toMatchObject({ format: 'csv', shape: [3], count: 3, columns: ['x', 'y', 'z'] });
    expect(d.values).toEqual(Float32Array.from([1, 2, 3, -45, 0.5, 6, 7, 0.8, 9]));
  });

  test('without a header; one column', async () => {
    const d = await loadDataset(file('p.csv', '0.25\n-1\n3\n'));
    expect(d).toMatchObject({ shape: [1], count: 3 });
    expect(d.columns).toBeUndefined();
    expect(d.values).toEqual(Float32Array.from([0.25, -1, 3]));
  });

  test.each([
    ['a NaN', 'x,y\n1,2\n3,NaN\n', /line 3, column 2: 'NaN' is not a number \(NaN and infinities are not data/],
    ['an infinity', '1,2\n-Infinity,2\n', /line 2, column 1: '-Infinity' is not a number/],
    ['a ragged row', 'x,y\n1,2\n3,4,5\n6,7\n', /line 3: 3 fields, expected 2 as on line 2 \(ragged row\)/],
    ['an empty field', '1,2\n3,\n', /line 2, column 2: empty field/],
    ['a word', '1,2\n3,four\n', /line 2, column 2: 'four' is not a number/],
    ['a first line partly numeric', '1,abc\n2,3\n', /line 1, column 2: 'abc' is not a number/],
    ['semicolons', '1;2\n3;4\n', /line 1, column 1: '1;2' is not a number \(the separator must be a comma\)/],
    ['a blank line between rows', '1,2\n\n3,4\n', /line 2: blank line between rows/],
    ['a value beyond float32', '1,2\n1e39,2\n', /line 2, column 1: 1e39 is beyond float32's range/],
    ['a header that disagrees with the rows', 'x,y,z\n1,2\n', /line 2: 2 fields, but the header \(line 1\) names 3 columns/],
    ['only a header', 'x,y\n\n', /no rows of numbers after the header \(x,y\)/],
    ['nothing', '', /no rows of numbers/],
  ])('%s is refused with the line and column', async (_, text, message) => {
    const path = file('points.csv', text);
    const error = await refused(path, message);
    expect(error.message.startsWith(`${path}`)).toBe(true);
  });
});

describe('image folders', () => {
  test('RGB PNGs in sorted name order, bytes exact; other entries skipped and reported', async () => {
    const pictures = [pattern(5, 3, 0), pattern(5, 3, 1), pattern(5, 3, 2)];
    const d0 = folder({ 'b.png': png(5, 3, pictures[2], 3), 'B.PNG': png(5, 3, pictures[0], 3), 'a.png': png(5, 3, pictures[1], 3), 'README.md': '# pictures', '.DS_Store': 'x' });
    mkdirSync(join(d0, 'more'));
    writeFileSync(join(d0, 'more', 'c.png'), png(5, 3, pictures[0], 3));
    const d = await loadDataset(d0);
    expect(d).toMatchObject({ format: 'images', shape: [3, 5, 3], count: 3 });
    // Code-unit order: 'B.PNG' < 'a.png' < 'b.png'.
    expect(d.values).toEqual(new Uint8Array([...pictures[0], ...pictures[1], ...pictures[2]]));
    expect(d.skipped).toEqual(['.DS_Store', 'README.md', 'more/']);
  });

  test('interlaced (Adam7) PNGs decode to the same bytes', async () => {
    const rgb = pattern(7, 5);
    const d = await loadDataset(folder({ 'i.png': encodePngFile({ width: 7, height: 5, data: rgb, channels: 3, depth: 8 }, { interlace: 'Adam7' }) }));
    expect(d.values).toEqual(rgb);
  });

  test('gray PNGs give one channel; any colour gives three; channels overrides either way', async () => {
    const gray = Uint8Array.from(range(12, (i) => i * 20));
    const rgbOfGray = Uint8Array.from(range(36, (i) => gray[Math.floor(i / 3)]));
    const colour = pattern(4, 3);
    const grays = folder({ 'a.png': png(4, 3, gray, 1), 'b.png': png(4, 3, rgbOfGray, 3) });
    const d = await loadDataset(grays);
    expect(d.shape).toEqual([3, 4, 1]);
    expect(d.values).toEqual(new Uint8Array([...gray, ...gray]));
    expect((await loadDataset(grays, { channels: 3 })).values).toEqual(new Uint8Array([...rgbOfGray, ...rgbOfGray]));

    const mixed = folder({ 'a.png': png(4, 3, gray, 1), 'b.png': png(4, 3, colour, 3) });
    const m = await loadDataset(mixed);
    expect(m.shape).toEqual([3, 4, 3]);
    expect(m.values).toEqual(new Uint8Array([...rgbOfGray, ...colour]));
    const luma = await loadDataset(mixed, { channels: 1 });
    expect(luma.shape).toEqual([3, 4, 1]);
    const bt601 = range(12, (i) => Math.round(0.299 * colour[3 * i] + 0.587 * colour[3 * i + 1] + 0.114 * colour[3 * i + 2]));
    expect([...luma.values.subarray(12)]).toEqual(bt601);
  });

  test('RGBA and gray+alpha composite onto black; a tRNS colour key is transparent', async () => {
    const rgba = Uint8Array.from([200, 100, 50, 255, 200, 100, 50, 0, 200, 100, 50, 128, 10, 20, 30, 255]);
    const grayAlpha = Uint8Array.from([255, 255, 255, 51, 100, 0, 7, 255]);
    // (2 x 2: fast-png wants no more tRNS values than pixels, even for a colour key.)
    const keyed = withChunk(png(2, 2, Uint8Array.from([1, 2, 3, 4, 5, 6, 1, 2, 3, 1, 2, 4]), 3), 'tRNS', Uint8Array.from([0, 1, 0, 2, 0, 3]));
    const d = await loadDataset(folder({ 'a.png': png(2, 2, rgba, 4) }));
    expect([...d.values]).toEqual([200, 100, 50, 0, 0, 0, 100, 50, 25, 10, 20, 30]);
    const g = await loadDataset(folder({ 'a.png': png(2, 2, grayAlpha, 2) }));
    expect([...g.values]).toEqual([255, 51, 0, 7]);
    const k = await loadDataset(folder({ 'k.png': keyed }));
    expect([...k.values]).toEqual([0, 0, 0, 4, 5, 6, 0, 0, 0, 1, 2, 4]);
  });

  test('16-bit PNGs are scaled to 8 bits; palette PNGs (with tRNS alpha, and 1/2/4-bit) are expanded', async () => {
    const g16 = Uint16Array.from([0, 65535, 32896, 257 * 7]);
    const rgb16 = Uint16Array.from([65535, 0, 257 * 100, 0, 0, 0]);
    const d = await loadDataset(folder({ 'g.png': png(2, 2, g16, 1, 16) }));
    expect([...d.values]).toEqual([0, 255, 128, 7]);
    const c = await loadDataset(folder({ 'c.png': png(2, 1, rgb16, 3, 16) }));
    expect([...c.values]).toEqual([255, 0, 100, 0, 0, 0]);

    const palette = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [9, 9, 9]];
    const indexed = encodePngFile({ width: 3, height: 2, data: Uint8Array.from([0, 1, 2, 3, 2, 1]), channels: 1, depth: 8, palette });
    const p = await loadDataset(folder({ 'p.png': indexed }));
    expect(p.shape).toEqual([2, 3, 3]);
    expect([...p.values]).toEqual([0, 1, 2, 3, 2, 1].flatMap((i) => palette[i]));
    // 2-bit indices, two rows of 3 (packed, each row padded to a byte), alpha from tRNS.
    // (Translucent entries first, as PNG writers order them: fast-png's encoder needs that.)
    const packed = Uint8Array.from([0b10000100, 0b11010000]);
    const translucent = [[0, 255, 0, 0], [0, 0, 255, 51], [255, 0, 0, 255], [200, 200, 200, 255]];
    const p2 = await loadDataset(folder({ 'p.png': encodePngFile({ width: 3, height: 2, data: packed, channels: 1, depth: 2, palette: translucent }) }));
    expect([...p2.values]).toEqual([255, 0, 0, 0, 0, 0, 0, 0, 51, 200, 200, 200, 0, 0, 51, 0, 0, 0]);
    // 1-bit gray: 0 and 1 become 0 and 255.
    const bits = await loadDataset(folder({ 'b.png': encodePngFile({ width: 3, height: 1, data: Uint8Array.from([0b10100000]), channels: 1, depth: 1 }) }));
    expect([...bits.values]).toEqual([255, 0, 255]);
  });

  test('JPEGs decode (colour and gray), in any case of extension, beside PNGs', async () => {
    const w = 16;
    const flat = new Uint8Array(w * w * 4).map((_, i) => [180, 60, 20, 255][i % 4]);
    const grayFlat = new Uint8Array(w * w * 4).map((_, i) => (i % 4 === 3 ? 255 : 90));
    const jpeg = (data: Uint8Array) => new Uint8Array(encodeJpegFile({ width: w, height: w, data }, 95).data);
    const d = await loadDataset(folder({ 'a.JPG': jpeg(flat), 'b.jpeg': jpeg(grayFlat), 'c.png': png(w, w, new Uint8Array(w * w * 3), 3) }));
    expect(d).toMatchObject({ shape: [w, w, 3], count: 3 });
    const mean = (n: number, c: number) => range(w * w, (i) => d.values[(n * w * w + i) * 3 + c]).reduce((a, b) => a + b) / (w * w);
    expect(Math.abs(mean(0, 0) - 180)).toBeLessThan(3);
    expect(Math.abs(mean(0, 1) - 60)).toBeLessThan(3);
    expect(Math.abs(mean(0, 2) - 20)).toBeLessThan(3);
    expect(Math.abs(mean(1, 0) - 90)).toBeLessThan(3);
    const gray = await loadDataset(folder({ 'g.jpg': jpeg(grayFlat) }));
    expect(gray.shape).toEqual([w, w, 1]);
  });

  test('--image-size crops the centred square and scales it: area averages down, bilinear up', async () => {
    // 6x4 picture: the centred 4x4 square is columns 1..4; to 2x2 each output is a 2x2 block mean.
    const wide = Uint8Array.from(range(24, (i) => (i % 6) * 40 + Math.floor(i / 6) * 4));
    // The same bytes as a 4x6 picture: the centred square is rows 1..4.
    const d = await loadDataset(folder({ 'a.png': png(6, 4, wide, 1), 'b.png': png(4, 6, wide, 1) }), { imageSize: 2 });
    expect(d).toMatchObject({ shape: [2, 2, 1], count: 2 });
    const mean4 = (w: number, x0: number, y0: number) => Math.round((wide[y0 * w + x0] + wide[y0 * w + x0 + 1] + wide[(y0 + 1) * w + x0] + wide[(y0 + 1) * w + x0 + 1]) / 4);
    expect([...d.values.subarray(0, 4)]).toEqual([mean4(6, 1, 0), mean4(6, 3, 0), mean4(6, 1, 2), mean4(6, 3, 2)]);
    expect([...d.values.subarray(4, 8)]).toEqual([mean4(4, 0, 1), mean4(4, 2, 1), mean4(4, 0, 3), mean4(4, 2, 3)]);
    // Enlarging a constant picture keeps it constant; a 1x1 picture fills the square.
    expect([...cropResize(Uint8Array.from([77]), 1, 1, 1, 3)]).toEqual(Array(9).fill(77));
    // Bilinear: a 2-pixel ramp to 4 pixels: centres at 0.25 and 0.75 of a pixel from each end.
    expect([...cropResize(Uint8Array.from([0, 100, 0, 100]), 2, 2, 1, 4).subarray(0, 4)]).toEqual([0, 25, 75, 100]);
    // Shrinking by a non-integer factor: 3 -> 2 pixels weighs the middle one half to each side.
    expect([...cropResize(new Uint8Array(25).fill(200), 5, 5, 1, 3)]).toEqual(Array(9).fill(200));
    expect([...cropResize(Uint8Array.from([0, 90, 180, 0, 90, 180, 0, 90, 180]), 3, 3, 1, 2)]).toEqual([30, 150, 30, 150]);
    // Same size: unchanged.
    expect(cropResize(wide, 6, 4, 1, 4)).toEqual(Uint8Array.from(range(16, (i) => wide[Math.floor(i / 4) * 6 + 1 + (i % 4)])));
  });

  test('without --image-size, pictures of two sizes are refused, naming both files and the flag', async () => {
    const d = folder({ 'a.png': png(4, 4, pattern(4, 4), 3), 'b.png': png(4, 4, pattern(4, 4), 3), 'c.png': png(5, 4, pattern(5, 4), 3) });
    await refused(d, /images differ in size: .*a\.png is 4x4, .*c\.png is 5x4; pass --image-size N/);
    expect((await loadDataset(d, { imageSize: 3 })).shape).toEqual([3, 3, 3]);
  });

  test.each([
    ['an empty folder', {}, /no \.png, \.jpg or \.jpeg images in this folder \(it is empty\)/],
    ['a folder of other files', { 'notes.txt': 'hi', 'data.csv': '1,2' }, /no \.png, \.jpg or \.jpeg images in this folder \(it holds data\.csv, notes\.txt; sub-folders are not searched\)/],
    ['a corrupt PNG', { 'a.png': png(4, 4, pattern(4, 4), 3), 'b.png': png(4, 4, pattern(4, 4), 3).subarray(0, 60) }, /b\.png: cannot decode this PNG/],
    ['a PNG with a damaged byte', { 'a.png': (() => {
      const b = png(4, 4, pattern(4, 4), 3).slice();
      b[b.length - 20] ^= 0xff;
      return b;
    })() }, /a\.png: cannot decode this PNG/],
    ['a truncated JPEG', { 'a.jpg': new Uint8Array(encodeJpegFile({ width: 16, height: 16, data: new Uint8Array(1024).fill(128) }, 90).data).subarray(0, 200) }, /a\.jpg: cannot decode this JPEG/],
    ['a text file called .png', { 'x.png': 'not a picture' }, /x\.png: not a PNG or JPEG file/],
  ])('%s is refused, naming it', async (_, files, message) => {
    await refused(folder(files as Record<string, Uint8Array | string>), message);
  });

  test('bad options are refused', async () => {
    const d = folder({ 'a.png': png(2, 2, pattern(2, 2), 3) });
    await refused(d, /image size 0 must be an integer from 1 to 4096 \(--image-size\)/, { imageSize: 0 });
    await refused(d, /channels 2 must be 1 \(gray\) or 3 \(RGB\)/, { channels: 2 as 1 });
  });
});

describe('IDX', () => {
  test('N x H x W -> [H, W, 1] and N x D -> [D], by name or by magic', async () => {
    const data = Uint8Array.from(range(2 * 3 * 4, (i) => i * 9));
    const a = await loadDataset(file('train-images-idx3-ubyte', idx([2, 3, 4], data)));
    expect(a).toMatchObject({ format: 'idx', shape: [3, 4, 1], count: 2 });
    expect(a.values).toEqual(data);
    const b = await loadDataset(file('rows.bin', idx([6, 4], data)));
    expect(b).toMatchObject({ format: 'idx', shape: [4], count: 6 });
    const c = await loadDataset(file('pics.idx', idx([1, 2, 2, 6], data.subarray(0, 24))));
    expect(c.shape).toEqual([2, 2, 6]);
  });

  test.each([
    ['labels', 'train-labels-idx1-ubyte', idx([5], new Uint8Array(5)), /1-D IDX file \(5 values\) holds labels, not samples/],
    ['truncated', 'x-idx3-ubyte', idx([2, 3, 3], new Uint8Array(10)), /header says 2x3x3 = 18 bytes of data, the file has 10/],
    ['no samples', 'x-idx2-ubyte', idx([0, 3], new Uint8Array(0)), /holds no samples/],
  ])('%s is refused, naming the file', async (_, name, bytes, message) => {
    const path = file(name, bytes);
    expect((await refused(path, message)).message.startsWith(path)).toBe(true);
  });
});

describe('choosing the format', () => {
  test.each([
    ['data.txt', '1,2\n', /data\.txt: cannot tell the format; expected a folder of \.png\/\.jpg images, a \.npy file, a \.csv file or an IDX file/],
    ['train-images-idx3-ubyte.gz', new Uint8Array([0x1f, 0x8b, 8, 0]), /a compressed file; decompress it first/],
    ['arrays.npz', 'PK', /an \.npz archive/],
    ['one.png', png(2, 2, pattern(2, 2), 3), /a single image; pass the folder/],
  ])('%s', async (name, contents, message) => {
    await refused(file(name, contents), message);
  });

  test('a missing path, and folder options on a file', async () => {
    await refused(join(root, 'nowhere.csv'), /cannot read .*nowhere\.csv: no such file or folder/);
    await refused(file('p.csv', '1,2\n'), /--image-size applies to folders of images, not to a file/, { imageSize: 8 });
  });
});

describe('column statistics and size', () => {
  test('columnStats: mean and population std per column; a constant column gets std 1', () => {
    const values = Float32Array.from([1, 5, 0.1, 2, 5, 0.1, 3, 5, 0.1, 6, 5, 0.1]);
    const { mean, std } = columnStats(values, 4, 3);
    expect(mean[0]).toBeCloseTo(3, 12);
    expect(std[0]).toBeCloseTo(Math.sqrt((4 + 1 + 0 + 9) / 4), 12);
    expect(mean.slice(1)).toEqual([5, Math.fround(0.1)]);
    expect(std.slice(1)).toEqual([1, 1]);
    expect(() => columnStats(values, 5, 3)).toThrow(DataError);
  });

  test('datasetBytes and the size message name the size, the limit and what to do', () => {
    const images: Dataset = { source: 'pics/', format: 'images', shape: [64, 64, 3], count: 1000, values: new Uint8Array(1000 * 64 * 64 * 3) };
    expect(datasetBytes(images)).toBe(12_288_000);
    expect(sizeLimitMessage(images, 12_288_000)).toBeNull();
    const message = sizeLimitMessage(images, 8 * 2 ** 20);
    expect(message).toMatch(/^pics\/: the data is 11\.7 MiB \(1000 samples of 64x64x3 bytes\), more than this adapter's limit of 8\.00 MiB/);
    expect(message).toMatch(/at most 682 fit.*--image-size N.*--channels 1/);
    const points: Dataset = { source: 'p.csv', format: 'csv', shape: [10], count: 100, values: new Float32Array(1000) };
    expect(datasetBytes(points)).toBe(4000);
    expect(sizeLimitMessage(points, 1000)).toMatch(/^p\.csv: the data is 3\.91 KiB \(100 samples of 10 float32 values\), more than .* 1000 bytes .*at most 25 fit.*fewer features/);
  });
});

describe('the examples', () => {
  test('spiral.csv: 2,000 two-dimensional points with a header; shapes/: 300 16x16 RGB pictures', async () => {
    const spiral = await loadDataset(join(EXAMPLES_DIR, 'spiral.csv'));
    expect(spiral).toMatchObject({ format: 'csv', shape: [2], count: SPIRAL_POINTS, columns: ['x', 'y'] });
    const { std } = columnStats(spiral.values, spiral.count, 2);
    expect(Math.min(...std)).toBeGreaterThan(0.3);
    const shapes = await loadDataset(join(EXAMPLES_DIR, 'shapes'));
    expect(shapes).toMatchObject({ format: 'images', shape: [16, 16, 3], count: SHAPE_COUNT, skipped: [] });
    const bytes = readdirSync(join(EXAMPLES_DIR, 'shapes')).reduce((n, f) => n + readFileSync(join(EXAMPLES_DIR, 'shapes', f)).byteLength, 0);
    expect(bytes).toBeLessThan(300 * 1024);
  });

  test('are exactly what scripts/make-examples.ts writes', () => {
    expect(readFileSync(join(EXAMPLES_DIR, 'spiral.csv'), 'utf8')).toBe(spiralCsv());
    const pngs = shapePngs();
    expect(readdirSync(join(EXAMPLES_DIR, 'shapes')).sort()).toEqual([...pngs.keys()].sort());
    for (const [name, bytes] of pngs) expect(new Uint8Array(readFileSync(join(EXAMPLES_DIR, 'shapes', name))), name).toEqual(bytes);
  });
});
