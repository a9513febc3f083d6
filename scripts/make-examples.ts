// Writes the example data sets, the same bytes on every run:
//   examples/spiral.csv   2,000 points of a noisy two-arm spiral (header x,y)
//   examples/shapes/      300 16x16 RGB PNGs of a circle, square or triangle on a dark background
// Run: node --import ./scripts/register.mjs scripts/make-examples.ts

import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { encode } from 'fast-png';

export const SPIRAL_POINTS = 2000;
export const SHAPE_COUNT = 300;
export const SHAPE_SIDE = 16;

/** A small seeded generator (xorshift32), so the files never depend on Math.random. */
function generator(seed: number): { uniform(): number; normal(): number } {
  let state = seed >>> 0 || 1;
  const uniform = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
  return {
    uniform,
    // Box-Muller; 1 - u keeps the logarithm finite.
    normal: () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform()),
  };
}

/** Two arms, half a turn apart, each 1.5 turns from radius 0.1 to 1, with noise of std 0.02. */
export function spiralCsv(): string {
  const rng = generator(20240601);
  const lines = ['x,y'];
  for (let i = 0; i < SPIRAL_POINTS; i++) {
    const arm = i % 2; // alternate arms, so every prefix of the file holds both
    const t = rng.uniform();
    const angle = t * 3 * Math.PI + arm * Math.PI;
    const radius = 0.1 + 0.9 * t;
    const x = radius * Math.cos(angle) + 0.02 * rng.normal();
    const y = radius * Math.sin(angle) + 0.02 * rng.normal();
    lines.push(`${x.toFixed(4)},${y.toFixed(4)}`);
  }
  return `${lines.join('\n')}\n`;
}

type Shape = 'circle' | 'square' | 'triangle';
const SHAPES: Shape[] = ['circle', 'square', 'triangle'];

/** Whether point (px, py) lies in the shape of the given kind centred at (cx, cy) with radius r. */
function inside(kind: Shape, px: number, py: number, cx: number, cy: number, r: number): boolean {
  const dx = px - cx;
  const dy = py - cy;
  if (kind === 'circle') return dx * dx + dy * dy <= r * r;
  if (kind === 'square') return Math.abs(dx) <= r * 0.85 && Math.abs(dy) <= r * 0.85;
  // An upward triangle with its corners on the circle of radius r: inside all three edges.
  const corners = [-90, 30, 150].map((deg) => [r * Math.cos((deg * Math.PI) / 180), r * Math.sin((deg * Math.PI) / 180)]);
  for (let k = 0; k < 3; k++) {
    const [ax, ay] = corners[k];
    const [bx, by] = corners[(k + 1) % 3];
    if ((bx - ax) * (dy - ay) - (by - ay) * (dx - ax) < 0) return false;
  }
  return true;
}

/** A bright colour of a random hue (HSV with saturation and value at least 0.6). */
function brightColour(rng: ReturnType<typeof generator>): number[] {
  const h = rng.uniform() * 6;
  const s = 0.6 + 0.4 * rng.uniform();
  const v = 0.7 + 0.3 * rng.uniform();
  const f = h - Math.floor(h);
  const [p, q, t] = [v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))];
  const rgb = [[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]][Math.floor(h) % 6];
  return rgb.map((c) => Math.round(c * 255));
}

/** The shape pictures as PNG files, by name (shape-0000.png ...); kinds cycle circle, square, triangle. */
export function shapePngs(): Map<string, Uint8Array> {
  const rng = generator(7);
  const files = new Map<string, Uint8Array>();
  const side = SHAPE_SIDE;
  const sub = 4; // 4 x 4 samples per pixel: soft edges
  for (let n = 0; n < SHAPE_COUNT; n++) {
    const kind = SHAPES[n % SHAPES.length];
    const background = [0, 0, 0].map(() => Math.floor(rng.uniform() * 32));
    const colour = brightColour(rng);
    const r = 3 + rng.uniform() * 4;
    // Centres keep most of the shape inside the picture.
    const cx = r * 0.7 + rng.uniform() * (side - 1.4 * r);
    const cy = r * 0.7 + rng.uniform() * (side - 1.4 * r);
    const data = new Uint8Array(side * side * 3);
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        let hits = 0;
        for (let sy = 0; sy < sub; sy++) {
          for (let sx = 0; sx < sub; sx++) if (inside(kind, x + (sx + 0.5) / sub, y + (sy + 0.5) / sub, cx, cy, r)) hits++;
        }
        const cover = hits / (sub * sub);
        for (let c = 0; c < 3; c++) data[(y * side + x) * 3 + c] = Math.round(background[c] + cover * (colour[c] - background[c]));
      }
    }
    files.set(`shape-${String(n).padStart(4, '0')}.png`, encode({ width: side, height: side, data, channels: 3, depth: 8 }));
  }
  return files;
}

export const EXAMPLES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'examples');

function main(): void {
  writeFileSync(join(EXAMPLES_DIR, 'spiral.csv'), spiralCsv());
  const dir = join(EXAMPLES_DIR, 'shapes');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  let bytes = 0;
  for (const [name, png] of shapePngs()) {
    writeFileSync(join(dir, name), png);
    bytes += png.byteLength;
  }
  console.log(`examples/spiral.csv: ${SPIRAL_POINTS} points; examples/shapes/: ${readdirSync(dir).length} PNGs, ${(bytes / 1024).toFixed(0)} KiB`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
