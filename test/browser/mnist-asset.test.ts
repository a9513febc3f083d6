// The page's MNIST asset format: the four IDX files back to back, split again by their headers.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { packMnistAsset, unpackMnistAsset } from '../../src/browser/mnist-asset.ts';
import { MNIST_FILES, parseMnist, type MnistFiles } from '../../src/data/mnist.ts';
import { mnistDirectory } from '../../src/data/mnist-node.ts';
import { buildMnistAsset } from '../../scripts/build-mnist-asset.ts';

async function originalFiles(): Promise<MnistFiles> {
  const dir = mnistDirectory();
  const entries = await Promise.all(Object.entries(MNIST_FILES).map(async ([key, name]) => [key, new Uint8Array(await readFile(join(dir, name)))] as const));
  return Object.fromEntries(entries) as MnistFiles;
}

describe('MNIST asset', () => {
  test('the built asset unpacks to the original IDX files, byte for byte', async () => {
    const files = await originalFiles();
    const unpacked = unpackMnistAsset(new Uint8Array(gunzipSync(await readFile(await buildMnistAsset()))));
    for (const key of Object.keys(MNIST_FILES) as (keyof MnistFiles)[]) {
      expect(unpacked[key].byteLength, key).toBe(files[key].byteLength);
      expect(Buffer.compare(unpacked[key], files[key]), key).toBe(0);
    }
    const mnist = parseMnist(unpacked);
    expect(mnist.train.count).toBe(60_000);
    expect(mnist.test.count).toBe(10_000);
  });

  test('a truncated or padded asset is refused, naming the file', async () => {
    const packed = packMnistAsset(await originalFiles());
    expect(() => unpackMnistAsset(packed.subarray(0, packed.byteLength - 1))).toThrow(/t10k-labels-idx1-ubyte is truncated/);
    expect(() => unpackMnistAsset(packed.subarray(0, 1000))).toThrow(/train-images-idx3-ubyte is truncated/);
    const padded = new Uint8Array(packed.byteLength + 3);
    padded.set(packed);
    expect(() => unpackMnistAsset(padded)).toThrow(/3 bytes follow/);
    expect(() => unpackMnistAsset(new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]))).toThrow(/does not start with an unsigned-byte IDX header/);
  });
});
