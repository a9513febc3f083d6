// Activation functions shared by the activation kernels and the matmul epilogue.
// Codes: 0 identity, 1 sigmoid, 2 relu, 3 leaky relu (slope `leak`), 4 tanh.

// exp(-|x|) never overflows, so sigmoid is finite and exact to f32 for any finite x.
fn sigmoid(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}

fn stable_tanh(x: f32) -> f32 {
  // tanh(x) = sign(x) (1 - e) / (1 + e) with e = exp(-2|x|): no overflow for large |x|.
  let e = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - e) / (1.0 + e);
}

fn activate(x: f32, act: u32, leak: f32) -> f32 {
  switch act {
    case 1u: { return sigmoid(x); }
    case 2u: { return max(x, 0.0); }
    case 3u: { return select(leak * x, x, x > 0.0); }
    case 4u: { return stable_tanh(x); }
    default: { return x; }
  }
}

// d activation / d input, written in terms of the saved output y (what the forward pass kept).
fn activate_grad_from_output(y: f32, act: u32, leak: f32) -> f32 {
  switch act {
    case 1u: { return y * (1.0 - y); }
    case 2u: { return select(0.0, 1.0, y > 0.0); }
    case 3u: { return select(leak, 1.0, y > 0.0); }
    case 4u: { return 1.0 - y * y; }
    default: { return 1.0; }
  }
}
