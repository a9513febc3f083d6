// The page's Fashion-MNIST asset: the engine's compact form gzip'd, built apart from MNIST's,
// and rebuilt only when the converted data it comes from is newer.

import { readFile, stat, utimes } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { buildFashionAsset } from '../../scripts/build-fashion-asset.ts';
import { FASHION_LAYOUT, packFashion, parseFashion } from '../../src/data/fashion.ts';
import { fashionCachePath, loadFashion } from '../../src/data/fashion-node.ts';

describe('Fashion-MNIST asset', () => {
  test('the built asset unpacks to the converted data, byte for byte, and is rebuilt only when that is newer', async () => {
    const path = await buildFashionAsset();
    const bytes = new Uint8Array(gunzipSync(await readFile(path)));
    expect(Buffer.from(bytes).equals(packFashion(await loadFashion()))).toBe(true);
    const fashion = parseFashion(bytes, FASHION_LAYOUT, 'Fashion-MNIST asset');
    expect([fashion.train.count, fashion.test.count]).toEqual([60_000, 10_000]);

    const built = (await stat(path)).mtimeMs;
    await buildFashionAsset();
    expect((await stat(path)).mtimeMs).toBe(built);
    // A newer conversion (as after a package update) builds the asset again.
    const source = await fashionCachePath();
    const later = new Date(built + 5000);
    await utimes(source, later, later);
    await buildFashionAsset();
    expect((await stat(path)).mtimeMs).toBeGreaterThanOrEqual(later.getTime());
  });
});
