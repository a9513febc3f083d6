// Assembling wider rows from parts, for the conditional GAN's inputs [z | one-hot(label)] and
// [x | one-hot(label)]: a block of columns copied into place, and one-hot labels written into
// `classes` columns; and other_labels, a class other than each given one (the mismatched pairs
// of a matching-aware discriminator). Rows may start at dst_row, so real and fake halves of a batch share a
// tensor without 256-byte-aligned views. One invocation per destination element.

override WG: u32 = 256u;

struct Params {
  rows: u32,
  // Source columns (copy) or classes (one-hot).
  width: u32,
  dst_cols: u32,
  dst_col: u32,
  dst_row: u32,
}

// The value one_hot writes for the label's class (the conditional GAN's label scale).
override HOT: f32 = 1.0;

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;
// one_hot's labels: class indices as u32 (entry points may reuse binding numbers).
@group(0) @binding(0) var<storage, read> labels: array<u32>;
// other_labels: labels at 0, shifts at 1, the other classes out at 3 (params at 2 as above).
@group(0) @binding(1) var<storage, read> shifts: array<u32>;
@group(0) @binding(3) var<storage, read_write> others: array<u32>;

fn element(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}

fn dst_index(i: u32, j: u32) -> u32 {
  return (params.dst_row + i) * params.dst_cols + params.dst_col + j;
}

@compute @workgroup_size(WG)
fn copy_columns(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let e = element(wid, nwg, lid);
  if (e >= params.rows * params.width) { return; }
  let i = e / params.width;
  let j = e % params.width;
  dst[dst_index(i, j)] = src[e];
}

// A label outside [0, classes) gives a row of zeros: no class, rather than a write elsewhere.
@compute @workgroup_size(WG)
fn one_hot(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let e = element(wid, nwg, lid);
  if (e >= params.rows * params.width) { return; }
  let i = e / params.width;
  let c = e % params.width;
  dst[dst_index(i, c)] = select(0.0, HOT, labels[i] == c);
}

// others[i] = (labels[i] + 1 + shifts[i] % (classes - 1)) % classes: never labels[i] when
// labels[i] < classes, and uniform over the other classes when shifts[i] is uniform on
// [0, classes - 1). params.rows = elements, params.width = classes (>= 2).
@compute @workgroup_size(WG)
fn other_labels(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = element(wid, nwg, lid);
  if (i >= params.rows) { return; }
  let classes = params.width;
  others[i] = (labels[i] % classes + 1u + shifts[i] % (classes - 1u)) % classes;
}
