// Minibatch assembly: dst[i, :] = transform(src[indices[index_offset + i], :]), where the
// transform is x * scale + offset (bytes to [0, 1] or [-1, 1]), or x * scale followed by a
// per-row min-max to [0, 1] (which makes any offset irrelevant) with MATLAB mapminmax
// semantics (y = (x - min) / (max - min); a constant row is left as it is). Sources are f32,
// or u8 packed four to a word and read byte by byte, so rows need not start on a word.
// An index at or past the source's row count yields a row of zeros: the kernel never reads
// out of bounds, and a zero row is easy to spot.
// DRAWN: the indices are not read but drawn here, indices[p] = pi(p) for the random permutation
// pi that randomPermutation would draw (lib/permutation.wgsl), and written to `drawn` when
// WRITE_DRAWN: the permutation and the gather in one dispatch.

override WG: u32 = 64u;
override SRC_U8: bool = false;
override MINMAX: bool = false;
// gather_values: 0 f32, 1 u32, 2 u8 source; the destination is f32 or u32.
override SRC_KIND: u32 = 0u;
override DST_F32: bool = true;
// rows_by_thread: every row starts on a word (d % 4 == 0), so u8 rows are read a word at a time.
override WORD_ROWS: bool = false;
override DRAWN: bool = false;
override WRITE_DRAWN: bool = false;
// The row gathers' workgroups from noise_from on draw normal noise instead, as randomNormal
// would (random.wgsl's draw_normal, bit for bit): parts of noise_n values, noise_stride apart
// in `noise`, part p on stream noise_streams[p]. The iteration's noise rides in the dispatch
// that gathers its real rows rather than taking dispatches of its own.
override NOISE: bool = false;

struct Params {
  // Destination rows (gather_values: elements), row length, source rows, first index used.
  n: u32,
  d: u32,
  rows: u32,
  index_offset: u32,
  scale: f32,
  offset: f32,
  // Destination rows come in blocks of block_rows, block_stride elements apart (padding keeps
  // each block bindable on its own: a whole epoch of minibatches in one dispatch). One block
  // of n rows, n * d apart, is the plain layout.
  block_rows: u32,
  block_stride: u32,
  // DRAWN: the permutation's key (seed, stream, step = clock[0] + step_offset), its domain and
  // Feistel width.
  seed_lo: u32,
  seed_hi: u32,
  stream: u32,
  step_offset: u32,
  domain: u32,
  bits: u32,
  // NOISE (same key words as the permutation, offset apart).
  noise_from: u32,
  noise_n: u32,
  noise_blocks: u32,
  noise_stride: u32,
  noise_parts: u32,
  noise_offset: u32,
  noise_mean: f32,
  noise_std: f32,
  noise_streams: array<vec4u, 2>,
}

@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read> indices: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

// DRAWN: the clock keying the permutation, and where the drawn indices go (WRITE_DRAWN).
@group(0) @binding(4) var<storage, read> clock: array<u32>;
@group(0) @binding(5) var<storage, read_write> drawn: array<u32>;
@group(0) @binding(6) var<storage, read_write> noise: array<f32>;

// gather_values writes f32 or u32 bits into one u32 array.
@group(0) @binding(2) var<storage, read_write> dst_bits: array<u32>;

// row_minmax works in place on one f32 tensor.
@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<uniform> shape: Params;

var<workgroup> lane_min: array<f32, WG>;
var<workgroup> lane_max: array<f32, WG>;

const F32_MAX: f32 = 0x1.fffffep+127f;

fn linear_index(wid: vec3u, nwg: vec3u) -> u32 {
  return wid.y * nwg.x + wid.x;
}

// Element at linear position `at` of the source, as f32.
fn load_src(at: u32) -> f32 {
  if (SRC_U8) {
    return f32((src[at >> 2u] >> ((at & 3u) * 8u)) & 0xffu);
  }
  return bitcast<f32>(src[at]);
}

// mapminmax of one value given its row's range; a constant row passes through.
fn rescale(v: f32, lo: f32, hi: f32) -> f32 {
  return select(v, (v - lo) / (hi - lo), hi > lo);
}

// indices[index_offset + i]: read, or drawn (and, by the invocation that `notes` it, written).
fn index_of(i: u32, notes: bool) -> u32 {
  let p = params.index_offset + i;
  if (!DRAWN) { return indices[p]; }
  let keys = permutation_keys(vec2u(params.seed_lo, params.seed_hi), params.stream, clock[0] + params.step_offset);
  let at = permuted(p, params.domain, params.bits, keys);
  if (WRITE_DRAWN && notes) { drawn[p] = at; }
  return at;
}

// Noise workgroup g (counted from noise_from), lane lid: one Philox block of four values.
fn draw_noise(g: u32, lid: u32) {
  let q = g * WG + lid;
  let part = q / params.noise_blocks;
  if (part >= params.noise_parts) { return; }
  let block = q - part * params.noise_blocks;
  let first = block * 4u;
  let stream = params.noise_streams[part / 4u][part % 4u];
  let words = philox4x32_10(vec4u(block, 0u, stream, clock[0] + params.noise_offset), vec2u(params.seed_lo, params.seed_hi));
  let v = normal4(words, params.noise_mean, params.noise_std);
  let at = part * params.noise_stride + first;
  if (first + 3u < params.noise_n) {
    noise[at] = v.x;
    noise[at + 1u] = v.y;
    noise[at + 2u] = v.z;
    noise[at + 3u] = v.w;
    return;
  }
  for (var j = 0u; first + j < params.noise_n; j++) {
    noise[at + j] = v[j];
  }
}

// True (and the noise drawn) in a workgroup past the gather's.
fn noise_workgroup(wid: vec3u, nwg: vec3u, lid: u32) -> bool {
  let g = linear_index(wid, nwg);
  if (!NOISE || g < params.noise_from) { return false; }
  draw_noise(g - params.noise_from, lid);
  return true;
}

// The source row for destination row i, or rows (past the end) for an out-of-range index.
fn source_row(i: u32, notes: bool) -> u32 {
  return min(index_of(i, notes), params.rows);
}

// Where destination row i (gather_values: element i, d = 1) starts.
fn dst_start(i: u32) -> u32 {
  let block = i / params.block_rows;
  return block * params.block_stride + (i - block * params.block_rows) * params.d;
}

// One invocation per destination element (no min-max).
@compute @workgroup_size(WG)
fn rows_by_element(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  if (noise_workgroup(wid, nwg, lid)) { return; }
  let e = linear_index(wid, nwg) * WG + lid;
  if (e >= params.n * params.d) { return; }
  let i = e / params.d;
  let j = e - i * params.d;
  let row = source_row(i, j == 0u);
  dst[dst_start(i) + j] = select(0.0f, load_src(row * params.d + j) * params.scale + params.offset, row < params.rows);
}

// One invocation per destination row: min and max in registers, then a second read of the
// row to write it (no barriers, which are costly on CPU adapters).
@compute @workgroup_size(WG)
fn rows_by_thread(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  if (noise_workgroup(wid, nwg, lid)) { return; }
  let i = linear_index(wid, nwg) * WG + lid;
  if (i >= params.n) { return; }
  let row = source_row(i, true);
  let out = dst_start(i);
  if (row >= params.rows) {
    for (var j = 0u; j < params.d; j++) { dst[out + j] = 0.0f; }
    return;
  }
  let base = row * params.d;
  var lo = F32_MAX;
  var hi = -F32_MAX;
  if (SRC_U8 && WORD_ROWS) {
    let first = base / 4u;
    let words = params.d / 4u;
    if (MINMAX) {
      var lo4 = vec4f(F32_MAX);
      var hi4 = vec4f(-F32_MAX);
      for (var w = 0u; w < words; w++) {
        let v = bytes_of(src[first + w]) * params.scale;
        lo4 = min(lo4, v);
        hi4 = max(hi4, v);
      }
      lo = min(min(lo4.x, lo4.y), min(lo4.z, lo4.w));
      hi = max(max(hi4.x, hi4.y), max(hi4.z, hi4.w));
    }
    for (var w = 0u; w < words; w++) {
      let v = bytes_of(src[first + w]) * params.scale;
      let y = select(v + vec4f(params.offset), rescale4(v, lo, hi), MINMAX);
      let at = out + 4u * w;
      dst[at] = y.x;
      dst[at + 1u] = y.y;
      dst[at + 2u] = y.z;
      dst[at + 3u] = y.w;
    }
    return;
  }
  if (MINMAX) {
    for (var j = 0u; j < params.d; j++) {
      let v = load_src(base + j) * params.scale;
      lo = min(lo, v);
      hi = max(hi, v);
    }
  }
  for (var j = 0u; j < params.d; j++) {
    let v = load_src(base + j) * params.scale;
    dst[out + j] = select(v + params.offset, rescale(v, lo, hi), MINMAX);
  }
}

// The four bytes of a word, lowest first, as f32 values 0..255.
fn bytes_of(word: u32) -> vec4f {
  return vec4f((vec4u(word) >> vec4u(0u, 8u, 16u, 24u)) & vec4u(0xffu));
}

fn rescale4(v: vec4f, lo: f32, hi: f32) -> vec4f {
  return select(v, (v - lo) / (hi - lo), hi > lo);
}

// The row's min and max across the workgroup: each lane reduces its strided share, then
// every lane folds the WG partials in the same order (deterministic, two barriers).
fn workgroup_range(lid: u32, lo: f32, hi: f32) -> vec2f {
  lane_min[lid] = lo;
  lane_max[lid] = hi;
  workgroupBarrier();
  var r = vec2f(F32_MAX, -F32_MAX);
  for (var k = 0u; k < WG; k++) {
    r = vec2f(min(r.x, lane_min[k]), max(r.y, lane_max[k]));
  }
  return r;
}

// One workgroup per destination row, lanes striding over its columns.
@compute @workgroup_size(WG)
fn rows_by_workgroup(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  if (noise_workgroup(wid, nwg, lid)) { return; }
  let i = linear_index(wid, nwg);
  if (i >= params.n) { return; }
  let row = source_row(i, lid == 0u);
  let out = dst_start(i);
  if (row >= params.rows) {
    for (var j = lid; j < params.d; j += WG) { dst[out + j] = 0.0f; }
    return;
  }
  let base = row * params.d;
  var r = vec2f(F32_MAX, -F32_MAX);
  if (MINMAX) {
    var lo = F32_MAX;
    var hi = -F32_MAX;
    for (var j = lid; j < params.d; j += WG) {
      let v = load_src(base + j) * params.scale;
      lo = min(lo, v);
      hi = max(hi, v);
    }
    r = workgroup_range(lid, lo, hi);
  }
  for (var j = lid; j < params.d; j += WG) {
    let v = load_src(base + j) * params.scale;
    dst[out + j] = select(v + params.offset, rescale(v, r.x, r.y), MINMAX);
  }
}

// In-place mapminmax of each row of x, one invocation per row.
@compute @workgroup_size(WG)
fn minmax_by_thread(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = linear_index(wid, nwg) * WG + lid;
  if (i >= shape.n) { return; }
  let base = i * shape.d;
  var lo = F32_MAX;
  var hi = -F32_MAX;
  for (var j = 0u; j < shape.d; j++) {
    lo = min(lo, x[base + j]);
    hi = max(hi, x[base + j]);
  }
  if (hi > lo) {
    for (var j = 0u; j < shape.d; j++) { x[base + j] = rescale(x[base + j], lo, hi); }
  }
}

// In-place mapminmax of each row of x, one workgroup per row.
@compute @workgroup_size(WG)
fn minmax_by_workgroup(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = linear_index(wid, nwg);
  if (i >= shape.n) { return; }
  let base = i * shape.d;
  var lo = F32_MAX;
  var hi = -F32_MAX;
  for (var j = lid; j < shape.d; j += WG) {
    lo = min(lo, x[base + j]);
    hi = max(hi, x[base + j]);
  }
  let r = workgroup_range(lid, lo, hi);
  if (r.y > r.x) {
    for (var j = lid; j < shape.d; j += WG) { x[base + j] = rescale(x[base + j], r.x, r.y); }
  }
}

// dst[i] = src[indices[index_offset + i]] converted to dst's type; 0 for an out-of-range index.
@compute @workgroup_size(WG)
fn gather_values(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = linear_index(wid, nwg) * WG + lid;
  if (i >= params.n) { return; }
  let at = index_of(i, true);
  var bits = 0u;
  if (at < params.rows) {
    let word = src[select(at, at >> 2u, SRC_KIND == 2u)];
    switch (SRC_KIND) {
      case 0u: { bits = select(u32(bitcast<f32>(word)), word, DST_F32); }
      case 1u: { bits = select(word, bitcast<u32>(f32(word)), DST_F32); }
      default: {
        let byte = (word >> ((at & 3u) * 8u)) & 0xffu;
        bits = select(byte, bitcast<u32>(f32(byte)), DST_F32);
      }
    }
  }
  dst_bits[dst_start(i)] = bits;
}
