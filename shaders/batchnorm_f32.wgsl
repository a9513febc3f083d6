// batchnorm.wgsl with one channel per lane: any channel count.

alias V = f32;
const WIDTH = 1u;

fn activate_v(v: V, act: u32, leak: f32) -> V {
  return activate(v, act, leak);
}

fn activate_grad_v(y: V, act: u32, leak: f32) -> V {
  return activate_grad_from_output(y, act, leak);
}
