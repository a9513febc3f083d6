// Convolution products with one output column, computed directly rather than as GEMM tiles: a
// conv or conv-transpose to one channel (a generator's image layer), the input gradient of a
// layer on one channel (a discriminator's first layer), and those layers' weight gradients.
// The operand library is conv.wgsl (gathers, sub-pixel classes, geometry), the epilogue
// lib/epilogue.wgsl, exactly as for the GEMM kernels; src/kernels/conv.ts says when this runs.
//
// Why: with one column, a GEMM tile's other columns are padding (the register kernels compute
// a vec4 of columns per row, three of them zeros), and every four values of k cost the gather's
// index arithmetic afresh (three to four integer divisions in gather_origin). Here a lane owns
// its outputs whole: it finds its pixel, or its tap and channels, once, and walks the taps or
// the pixels with additions only (`direct_tiles`: 2 x 2 pixels of a sub-pixel class, sharing
// their source window). The weights (`direct_rows`, `direct_tiles`) or dY (`direct_weights`) are
// the same for every lane of a workgroup, so lavapipe loads them once rather than lane by lane.
//
// Summation order: each output is the GEMM register kernels' sum term for term. They add k in
// blocks of KB values (8 with subgroups, 4 without: matmul_subgroups.wgsl's block, matmul.wgsl's
// 4 x 4 pieces), each block one chain in order of k, and the blocks' sums in order of k; the
// chains here are the same, so a conv layer gives the same bits on either path and switching
// paths moves no trajectory.

override KB: u32 = 8u;   // k values per chain: the register kernel's block, 4 or 8
override WG: u32 = 8u;   // invocations per workgroup

// The source map position a pixel's gather reads at tap (0, 0), and the step per tap: the
// transposed gather walks back (class tap (th, tw) reads (base + i - th)), the forward one
// forward (g s - pad + kh). Unsigned: a negative position wraps far above the map, and the
// range test in `source_at` rejects it.
const TAP_STEP_TR = 0xffffffffu;   // -1
fn tap_step() -> u32 { return select(1u, TAP_STEP_TR, GATHER_TR); }

// Taps of the part along h and w.
fn taps_hw() -> vec2u {
  if (!GATHER_TR) { return vec2u(geo.kernel, geo.kernel); }
  let per_row = part.taps_w * geo.src_c;
  return vec2u(select(0u, part.columns / max(per_row, 1u), per_row > 0u), part.taps_w);
}

// The weights' first row (of [KH KW Cin, Cout], Cout = 1, or of the swapped weights, whose row
// for one output column is the same) for the part's tap (th, tw).
fn weight_origin(th: u32, tw: u32) -> u32 {
  if (!GATHER_TR) { return (th * geo.kernel + tw) * geo.src_c; }
  return ((part.phase_h + geo.stride * th) * geo.kernel + part.phase_w + geo.stride * tw) * geo.src_c;
}

// The part's pixel p as (sample, tap-(0, 0) source row, source column), and its row of C.
struct Pixel { n: u32, h: u32, w: u32, row: u32 }

fn pixel_at(n: u32, i: u32, j: u32) -> Pixel {
  if (GATHER_TR) {
    let row = (n * geo.grid_h + part.first_h + geo.stride * i) * geo.grid_w + part.first_w + geo.stride * j;
    return Pixel(n, part.base_h + i, part.base_w + j, row);
  }
  return Pixel(n, i * geo.stride - geo.pad, j * geo.stride - geo.pad, (n * geo.grid_h + i) * geo.grid_w + j);
}

// The part's pixel grid per sample.
fn pixel_grid() -> vec2u {
  if (GATHER_TR) { return vec2u(part.sub_h, part.sub_w); }
  return vec2u(geo.grid_h, geo.grid_w);
}

// Index of channel 0 of the source at pixel `q`'s tap (th, tw) and whether it is inside the map.
fn source_at(q: Pixel, th: u32, tw: u32) -> Origin {
  let ih = q.h + th * tap_step();
  let iw = q.w + tw * tap_step();
  let ok = ih < geo.src_h && iw < geo.src_w;
  return Origin(select(0u, ((q.n * geo.src_h + ih) * geo.src_w + iw) * geo.src_c, ok), ok);
}

// One block of the GEMM's sum: KB channels of one tap, source values x0 (and x1) against the
// weights from `w`, one chain in order of k.
fn block_sum(x0: vec4f, x1: vec4f, w: u32) -> f32 {
  let y0 = b_vec4(w);
  if (KB == 4u) {
    // matmul.wgsl's piece: component 0 of a matrix-vector product, as the compiler orders it.
    return (mat4x4f(vec4f(y0.x), vec4f(y0.y), vec4f(y0.z), vec4f(y0.w)) * x0).x;
  }
  let y1 = b_vec4(w + 4u);
  var s = x0.x * y0.x;
  s += x0.y * y0.y;
  s += x0.z * y0.z;
  s += x0.w * y0.w;
  s += x1.x * y1.x;
  s += x1.y * y1.y;
  s += x1.z * y1.z;
  s += x1.w * y1.w;
  return s;
}

// The transposed gather's class pixels per lane (direct_tiles), and the most taps and channel
// blocks a tile's partial sums have room for (src/kernels/conv.ts's tilesApply). On lavapipe,
// at the DCGAN's one-channel passes, 2 x 2 tiles ran 1.2-1.3x faster than one pixel per lane;
// 1 x 2, 2 x 4 and 4 x 2 no faster than that (more partial sums to keep than loads saved).
const TILE_H = 2u;
const TILE_W = 2u;
const TILE_TAPS = 2u;      // along each axis: kernel <= 2 stride
const TILE_BLOCKS = 8u;    // src_c / KB
const TILE_SUMS = TILE_H * TILE_W * TILE_TAPS * TILE_TAPS * TILE_BLOCKS;

// direct_rows for the transposed gather, TILE_H x TILE_W class pixels per lane. A class is a
// stride-1 correlation, so neighbouring pixels read the same source pixels at neighbouring taps:
// the tile's (TILE_H + taps - 1) x (TILE_W + taps - 1) window is loaded once (9 source pixels
// for the 16 pixel-taps of 2 x 2 taps). Each block's sum goes to `sums`, and each output adds
// its blocks in the GEMM's order at the end.
@compute @workgroup_size(WG)
fn direct_tiles(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  enter_part(wid.z);
  let tiles_w = (part.sub_w + TILE_W - 1u) / TILE_W;
  let tiles = tiles_w * ((part.sub_h + TILE_H - 1u) / TILE_H);
  let t = gid.x;
  if (t >= geo.batch * tiles) { return; }
  let n = t / tiles;
  let ti = (t - n * tiles) / tiles_w;
  let i0 = ti * TILE_H;
  let j0 = (t - n * tiles - ti * tiles_w) * TILE_W;
  let taps = taps_hw();
  let blocks = geo.src_c / KB;
  // sums[(((y TILE_W + x) TILE_TAPS + th) TILE_TAPS + tw) TILE_BLOCKS + cb]
  var sums: array<f32, TILE_SUMS>;
  // Window pixel (r, v) is the source pixel that tile pixel (y, x) reads at tap (th, tw) for
  // r = y + taps.x - 1 - th, v = x + taps.y - 1 - tw.
  for (var r = 0u; r < TILE_H + taps.x - 1u; r++) {
    let ih = part.base_h + i0 + r - (taps.x - 1u);
    for (var v = 0u; v < TILE_W + taps.y - 1u; v++) {
      let iw = part.base_w + j0 + v - (taps.y - 1u);
      let ok = ih < geo.src_h && iw < geo.src_w;
      let at = select(0u, ((n * geo.src_h + ih) * geo.src_w + iw) * geo.src_c, ok);
      for (var cb = 0u; cb < blocks; cb++) {
        let c = cb * KB;
        let x0 = select(vec4f(0.0), a_vec4(at + c), ok);
        var x1 = vec4f(0.0);
        if (KB > 4u) { x1 = select(vec4f(0.0), a_vec4(at + c + 4u), ok); }
        for (var y = 0u; y < TILE_H; y++) {
          let th = y + taps.x - 1u - r;   // wraps past taps.x where negative
          if (th >= taps.x) { continue; }
          for (var x = 0u; x < TILE_W; x++) {
            let tw = x + taps.y - 1u - v;
            if (tw >= taps.y) { continue; }
            sums[(((y * TILE_W + x) * TILE_TAPS + th) * TILE_TAPS + tw) * TILE_BLOCKS + cb] = block_sum(x0, x1, weight_origin(th, tw) + c);
          }
        }
      }
    }
  }
  for (var y = 0u; y < TILE_H; y++) {
    for (var x = 0u; x < TILE_W; x++) {
      var acc = 0.0;
      for (var th = 0u; th < taps.x; th++) {
        for (var tw = 0u; tw < taps.y; tw++) {
          for (var cb = 0u; cb < blocks; cb++) { acc += sums[(((y * TILE_W + x) * TILE_TAPS + th) * TILE_TAPS + tw) * TILE_BLOCKS + cb]; }
        }
      }
      if (i0 + y < part.sub_h && j0 + x < part.sub_w) { finish(pixel_at(n, i0 + y, j0 + x).row, 0u, vec4f(acc, 0.0, 0.0, 0.0)); }
    }
  }
}

// C[p] = sum_k op(A)[p, k] op(B)[k] (forward ops and input gradients, TRANS_A false): one pixel
// per lane, k = (tap, channel) in the GEMM's order. Needs src_c % KB == 0, so no chain spans
// two taps.
@compute @workgroup_size(WG)
fn direct_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  enter_part(wid.z);
  let p = gid.x;
  if (p >= part.M) { return; }
  let grid = pixel_grid();
  let row = p / grid.y;
  let n = row / grid.x;
  let q = pixel_at(n, row - n * grid.x, p - row * grid.y);
  let taps = taps_hw();
  var acc = 0.0;
  for (var th = 0u; th < taps.x; th++) {
    for (var tw = 0u; tw < taps.y; tw++) {
      let o = source_at(q, th, tw);
      let w0 = weight_origin(th, tw);
      for (var c = 0u; c < geo.src_c; c += KB) {
        let x0 = select(vec4f(0.0), a_vec4(o.index + c), o.ok);
        var x1 = vec4f(0.0);
        if (KB > 4u) { x1 = select(vec4f(0.0), a_vec4(o.index + c + 4u), o.ok); }
        acc += block_sum(x0, x1, w0 + c);
      }
    }
  }
  finish(q.row, 0u, vec4f(acc, 0.0, 0.0, 0.0));
}

// dW[m] = sum_p op(A)[m, p] dY[p] (weight gradients, TRANS_A true): four channels of one tap per
// lane (src_c % 4 == 0), p = the part's pixels in order, KB to a chain. The bias gradient (the
// sum of dY) as the GEMM kernels sum it: over every pixel by one lane where the parts split
// the pixels, else block by block beside the products.
@compute @workgroup_size(WG)
fn direct_weights(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  enter_part(wid.z);
  let first = wid.x == 0u && li == 0u;
  if (SPLIT_K && has_flag(FLAG_BIAS_GRAD) && first && wid.z == 0u) { finish_bias_grad(0u, whole_column_sums(0u)); }
  let m0 = gid.x * 4u;
  if (m0 >= part.M) { return; }
  let bias_grad = has_flag(FLAG_BIAS_GRAD) && !SPLIT_K && first;
  let taps = taps_hw();
  let tap = m0 / geo.src_c;
  let c = m0 - tap * geo.src_c;
  let th = tap / taps.y;
  let tw = tap - th * taps.y;
  let grid = pixel_grid();
  let K = part.K;
  var acc = vec4f(0.0);
  var column_sum = 0.0;
  // The pixel after the last one read: (n, i, j), advanced in the order of p.
  var n = 0u;
  var i = 0u;
  var j = 0u;
  for (var k0 = 0u; k0 < K; k0 += KB) {
    // The block's four channels and dY at each of its pixels (zeros past K, as the GEMM's).
    // Every element is assigned in every block: the declaration's zeros alone (WGSL zeroes a
    // var each time it is declared) left the previous block's values in place (Dawn, lavapipe).
    var x: array<vec4f, 8>;
    var dy: array<f32, 8>;
    for (var kk = 0u; kk < KB; kk++) {
      x[kk] = vec4f(0.0);
      dy[kk] = 0.0;
      if (k0 + kk < K) {
        let q = pixel_at(n, i, j);
        dy[kk] = b_scalar(q.row);
        let o = source_at(q, th, tw);
        x[kk] = select(vec4f(0.0), a_vec4(o.index + c), o.ok);
        j++;
        if (j == grid.y) {
          j = 0u;
          i++;
          if (i == grid.x) { i = 0u; n++; }
        }
      }
    }
    if (KB == 4u) {
      // matmul.wgsl's piece: a matrix-vector product, as the compiler orders it.
      acc += mat4x4f(x[0], x[1], x[2], x[3]) * vec4f(dy[0], dy[1], dy[2], dy[3]);
    } else {
      var s = x[0] * dy[0];
      for (var kk = 1u; kk < KB; kk++) { s += x[kk] * dy[kk]; }
      acc += s;
    }
    if (bias_grad) {
      var block = dy[0];
      for (var kk = 1u; kk < KB; kk++) { block += dy[kk]; }
      column_sum += block;
    }
  }
  let rows = min(4u, part.M - m0);
  for (var r = 0u; r < rows; r++) { finish(c_row(m0 + r), 0u, vec4f(acc[r], 0.0, 0.0, 0.0)); }
  if (bias_grad) { finish_bias_grad(0u, vec4f(column_sum, 0.0, 0.0, 0.0)); }
}
