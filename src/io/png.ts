// PNG encoding of RGBA pictures (fast-png: pure JS, the same in Node and the browser).

import { encode } from 'fast-png';
import type { Rgba } from '../viz/image.ts';

export function encodePng(img: Rgba): Uint8Array {
  return encode({ width: img.width, height: img.height, data: new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength), channels: 4, depth: 8 });
}
