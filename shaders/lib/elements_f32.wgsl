// Stored operands of f32 elements (lib/matmul.wgsl's element contract): element i is component
// i & 3 of vec4 i >> 2.

fn a_scalar(i: u32) -> f32 { return a[i >> 2u][i & 3u]; }
fn b_scalar(i: u32) -> f32 { return b[i >> 2u][i & 3u]; }

// Elements e..e+3 (e a multiple of 4): one vec4 load.
fn a_vec4(e: u32) -> vec4f { return a[e >> 2u]; }
fn b_vec4(e: u32) -> vec4f { return b[e >> 2u]; }
