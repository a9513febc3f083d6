// batchnorm.wgsl with four consecutive channels per lane (channel counts divisible by 4): a
// CPU adapter loads a vec4 for about the cost of one scalar, and GPUs read 16 bytes a lane.

alias V = vec4f;
const WIDTH = 4u;

fn activate_v(v: V, act: u32, leak: f32) -> V {
  return V(activate(v.x, act, leak), activate(v.y, act, leak), activate(v.z, act, leak), activate(v.w, act, leak));
}

fn activate_grad_v(y: V, act: u32, leak: f32) -> V {
  return V(
    activate_grad_from_output(y.x, act, leak),
    activate_grad_from_output(y.y, act, leak),
    activate_grad_from_output(y.z, act, leak),
    activate_grad_from_output(y.w, act, leak),
  );
}
