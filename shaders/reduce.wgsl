// Column sums of a row-major [rows, cols] matrix in a fixed order, so a result is
// bit-identical from run to run (no atomics). A workgroup of 256 lanes covers TILE_COLS
// columns with ROW_LANES lanes each, and sums rows [wid.y * rows_per_group, ...) of its
// columns: each lane walks its rows in order, then the lanes of a column are combined
// pairwise in workgroup memory. When a matrix needs several row groups, each group writes a
// partial row and the next pass sums those partials the same way; only the final pass
// scales, accumulates into `out` and lands at `out_offset`.

override TILE_COLS: u32 = 64u;
override ROW_LANES: u32 = 256u / TILE_COLS;
// Applied to each input of the first pass: 0 identity, 1 sigmoid (a mean of D(x) from logits).
override TRANSFORM: u32 = 0u;
override ACCUMULATE: bool = false;

struct Params {
  rows: u32,
  cols: u32,
  rows_per_group: u32,
  out_offset: u32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

var<workgroup> lane_sums: array<f32, 256>;

fn load(i: u32) -> f32 {
  let v = x[i];
  if (TRANSFORM == 1u) { return sigmoid(v); }
  return v;
}

@compute @workgroup_size(256)
fn sum_rows(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let c = lid % TILE_COLS;
  let lane = lid / TILE_COLS;
  let col = wid.x * TILE_COLS + c;
  let first = wid.y * params.rows_per_group;
  let end = min(first + params.rows_per_group, params.rows);
  var acc = 0.0;
  if (col < params.cols) {
    for (var r = first + lane; r < end; r += ROW_LANES) {
      acc += load(r * params.cols + col);
    }
  }
  lane_sums[lid] = acc;
  workgroupBarrier();
  for (var stride = ROW_LANES / 2u; stride > 0u; stride /= 2u) {
    if (lane < stride) {
      lane_sums[lid] += lane_sums[lid + stride * TILE_COLS];
    }
    workgroupBarrier();
  }
  if (lane == 0u && col < params.cols) {
    let at = params.out_offset + wid.y * params.cols + col;
    var total = params.scale * lane_sums[c];
    if (ACCUMULATE) { total = out[at] + total; }
    out[at] = total;
  }
}
