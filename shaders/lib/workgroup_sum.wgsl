// The sum of one f32 per lane over a workgroup of WG lanes (the including shader's override, a
// power of two), added pairwise in a fixed order, so the same inputs give the same bits, and
// returned to every lane. Called from uniform control flow: it holds barriers.

var<workgroup> partial: array<f32, WG>;

fn workgroup_sum(lid: u32, x: f32) -> f32 {
  partial[lid] = x;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) { partial[lid] += partial[lid + stride]; }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier();
  return total;
}
