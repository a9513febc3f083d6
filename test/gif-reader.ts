// A GIF decoder for the tests, written from the GIF89a specification and independent of the
// encoder the engine uses: it walks the blocks, LZW-decodes every image and returns each frame's
// RGB pixels and delay, so a test can count frames and compare them with the PNGs they came from.

export interface GifImage {
  width: number;
  height: number;
  /** Delay in hundredths of a second. */
  delay: number;
  /** [height * width * 3] bytes. */
  rgb: Uint8Array;
}

export interface DecodedGif {
  width: number;
  height: number;
  /** Loop count of the NETSCAPE2.0 extension (0: forever), or null without one. */
  loops: number | null;
  frames: GifImage[];
}

function lzwDecode(data: Uint8Array, minCodeSize: number, pixels: number): Uint8Array {
  const out = new Uint8Array(pixels);
  const clear = 1 << minCodeSize;
  const end = clear + 1;
  let size = minCodeSize + 1;
  let dict: number[][] = [];
  const reset = () => {
    dict = Array.from({ length: clear }, (_, i) => [i]);
    dict.push([], []);
    size = minCodeSize + 1;
  };
  reset();
  let bit = 0;
  let written = 0;
  let prev: number[] | null = null;
  const read = () => {
    let code = 0;
    for (let i = 0; i < size; i++) {
      const byte = data[(bit + i) >> 3];
      if (byte === undefined) throw new Error('GIF: LZW data ends without an end code');
      code |= ((byte >> ((bit + i) & 7)) & 1) << i;
    }
    bit += size;
    return code;
  };
  for (;;) {
    const code = read();
    if (code === clear) {
      reset();
      prev = null;
      continue;
    }
    if (code === end) break;
    let entry: number[];
    if (code < dict.length && dict[code].length) entry = dict[code];
    else if (code === dict.length && prev) entry = [...prev, prev[0]];
    else throw new Error(`GIF: bad LZW code ${code} (dictionary ${dict.length})`);
    if (written + entry.length > pixels) throw new Error('GIF: more pixels than the image holds');
    out.set(entry, written);
    written += entry.length;
    if (prev && dict.length < 4096) dict.push([...prev, entry[0]]);
    if (dict.length === 1 << size && size < 12) size++;
    prev = entry;
  }
  if (written !== pixels) throw new Error(`GIF: ${written} pixels decoded, the image holds ${pixels}`);
  return out;
}

export function decodeGif(bytes: Uint8Array): DecodedGif {
  const text = (at: number, n: number) => String.fromCharCode(...bytes.subarray(at, at + n));
  if (text(0, 6) !== 'GIF89a' && text(0, 6) !== 'GIF87a') throw new Error('GIF: no GIF signature');
  const u16 = (at: number) => bytes[at] | (bytes[at + 1] << 8);
  const width = u16(6);
  const height = u16(8);
  const packed = bytes[10];
  let at = 13;
  let globalTable: Uint8Array | null = null;
  if (packed & 0x80) {
    const n = 3 * (1 << ((packed & 7) + 1));
    globalTable = bytes.subarray(at, at + n);
    at += n;
  }
  const subBlocks = () => {
    const parts: Uint8Array[] = [];
    for (;;) {
      const n = bytes[at++];
      if (n === undefined) throw new Error('GIF: file ends inside a block');
      if (n === 0) break;
      parts.push(bytes.subarray(at, at + n));
      at += n;
    }
    const joined = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
    let o = 0;
    for (const p of parts) {
      joined.set(p, o);
      o += p.length;
    }
    return joined;
  };
  const frames: GifImage[] = [];
  let loops: number | null = null;
  let delay = 0;
  for (;;) {
    const block = bytes[at++];
    if (block === 0x3b) break;
    if (block === 0x21) {
      const label = bytes[at++];
      const body = subBlocks();
      if (label === 0xf9) delay = body[1] | (body[2] << 8);
      // An application extension: an 11-byte identifier, then [1, loop count low, high].
      if (label === 0xff && String.fromCharCode(...body.subarray(0, 11)) === 'NETSCAPE2.0') loops = body[12] | (body[13] << 8);
      continue;
    }
    if (block !== 0x2c) throw new Error(`GIF: unexpected block 0x${block?.toString(16)} at byte ${at - 1}`);
    const w = u16(at + 4);
    const h = u16(at + 6);
    const flags = bytes[at + 8];
    at += 9;
    let table = globalTable;
    if (flags & 0x80) {
      const n = 3 * (1 << ((flags & 7) + 1));
      table = bytes.subarray(at, at + n);
      at += n;
    }
    if (!table) throw new Error('GIF: an image without a colour table');
    if (flags & 0x40) throw new Error('GIF: interlaced images are not read here');
    const minCodeSize = bytes[at++];
    const indices = lzwDecode(subBlocks(), minCodeSize, w * h);
    const rgb = new Uint8Array(w * h * 3);
    for (let i = 0; i < w * h; i++) rgb.set(table.subarray(indices[i] * 3, indices[i] * 3 + 3), i * 3);
    frames.push({ width: w, height: h, delay, rgb });
    delay = 0;
  }
  return { width, height, loops, frames };
}
