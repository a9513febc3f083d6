// What every matmul kernel shares whatever its operands are: the bindings, the parameters, the
// epilogue, and loads of four elements of a stored row. Kernel bodies: shaders/matmul.wgsl
// (register, workgroup-tiled) and shaders/matmul_subgroups.wgsl (register with subgroup
// shuffles). They read their operands only through an operand library composed beside this one:
// lib/matmul_dense.wgsl (stored matrices) or conv.wgsl (implicit im2col of a feature map).
//
// An operand library provides, for C[M, N] = op(A)[M, K] op(B)[K, N]:
//   TRANS_A, TRANS_B (bool)   the direction in which each operand is cheap to read: op(A) along M
//                             (TRANS_A) or along K; op(B) along K (TRANS_B) or along N. Kernels
//                             pick their loads and their slab layouts by them.
//   a_row4(m, k), a_col4(m, k), b_row4(k, n), b_col4(k, n)
//                             four consecutive elements of op(A) or op(B) along the named axis;
//   a_element(m, k), b_element(k, n)
//                             one element, zero outside [M, K] or [K, N].
// Every accessor reads zero for k >= K, so the K loops may run past K to a whole block. Rows past
// M and columns past N read zero or clamped values (inside the operands) and feed outputs that
// are never stored, so the inner loops need no bounds branches.
//
// Parts. One launch may compute several independent products, one per z of its grid (conv.wgsl's
// sub-pixel classes): they share N, the bindings and the epilogue, and each has its own M, K and
// rows of C. M and K above are the part's. The library also provides
//   part_size(z) -> vec2u     part z's M and K; (params.M, params.K) for a plain product. A pure
//                             function of z and uniforms, so loop bounds over it stay uniform.
//   enter_part(z)             every invocation calls it first; the accessors then read part z.
//   enter_rows(m0)            the register kernels call it (after enter_part) with the first of
//                             the four rows of op(A) the lane reads along k, so the library may
//                             work out their index arithmetic once (conv.wgsl); a no-op for
//                             stored matrices. Accessors give the same values either way.
//   c_row(m) -> u32           the row of C (and of `saved`) that the part's row m is.
//   SPLIT_K (bool)            the parts take different k of op(B), so no part sees all of it: the
//                             bias gradient is then not fused into the k loop but summed by
//                             whole_column_sums(n), op(B)'s column sums n..n+3 over every k of
//                             every part, in a fixed order, by one invocation per column group.
//
// Operands are bound as arrays of vec4 (tensors are padded to 16 bytes). An element library
// composed beside the operand library says how stored elements read as f32: a_scalar(i),
// b_scalar(i) and row4_a / row4_b (four consecutive elements of a stored row): lib/elements_f32.wgsl
// (f32 storage) or lib/elements_f16.wgsl (binary16 storage, two to a word); a_vec4(e) and
// b_vec4(e) read elements e..e+3 for e a multiple of 4.

// C's rows are whole vec4s: N % 4 == 0.
override VEC_N: bool = false;

// Epilogue: C = act(A B + bias (+ C)), or C = (A B) * act'(Y) with Y the saved forward output;
// optionally also the bias gradient db = column sums of op(B) (+ db). Which parts run is a
// parameter (`flags`), like the activation, so one pipeline per operand layout serves every
// layer: each pipeline costs about a CPU-second to compile on a CPU adapter, and the epilogue
// runs once per output against K multiply-adds.
const FLAG_BIAS = 1u;
const FLAG_ACCUMULATE = 2u;
const FLAG_GRAD = 4u;
const FLAG_BIAS_GRAD = 8u;

// act, grad_act: lib/activation.wgsl codes (0 = identity); the leaks are leaky ReLU slopes.
struct Params { M: u32, N: u32, K: u32, act: u32, leak: f32, grad_act: u32, grad_leak: f32, flags: u32 }

@group(0) @binding(0) var<storage, read> a: array<vec4f>;
@group(0) @binding(1) var<storage, read> b: array<vec4f>;
@group(0) @binding(5) var<uniform> params: Params;
// Bindings 2, 3, 4 and 6 (C and the epilogue's inputs and outputs) are the epilogue library's:
// lib/epilogue.wgsl, or lib/epilogue_update.wgsl for a weight gradient that updates the weights.

fn has_flag(f: u32) -> bool { return (params.flags & f) != 0u; }

// Four consecutive elements of a stored row, from element `start` of the row whose first element
// has index `first` and which holds `len` elements; elements at or past `len` read as zero, and
// every load stays inside the row. `vec` promises `first`, `start` and `len` are multiples of 4:
// then it is one vector load.
fn row4_a(first: u32, start: u32, len: u32, vec: bool) -> vec4f {
  if (vec) {
    return select(vec4f(0.0), a_vec4(first + min(start, len - 4u)), start < len);
  }
  var v: vec4f;
  for (var q = 0u; q < 4u; q++) {
    v[q] = select(0.0, a_scalar(first + min(start + q, len - 1u)), start + q < len);
  }
  return v;
}

fn row4_b(first: u32, start: u32, len: u32, vec: bool) -> vec4f {
  if (vec) {
    return select(vec4f(0.0), b_vec4(first + min(start, len - 4u)), start < len);
  }
  var v: vec4f;
  for (var q = 0u; q < 4u; q++) {
    v[q] = select(0.0, b_scalar(first + min(start + q, len - 1u)), start + q < len);
  }
  return v;
}
