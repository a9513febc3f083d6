// The optimizer's rule applied to one element where a kernel computes its gradient (the weight
// gradient's update epilogue, lib/epilogue_update.wgsl, and D's head, head.wgsl): the network's
// flat parameters and the optimizer's state, laid out alike, at bindings 3, 4 and 7, its step
// counter at 8 and its parameters at 9 in every such kernel.

// 0 SGD with momentum, 1 Adam, 2 RMSProp.
override OPTIMIZER: u32 = 0u;

@group(0) @binding(3) var<storage, read_write> w: array<f32>;
@group(0) @binding(4) var<storage, read_write> state1: array<f32>;
// Adam's second moments (a spare buffer for the other kinds) and its step counter.
@group(0) @binding(7) var<storage, read_write> state2: array<f32>;
@group(0) @binding(8) var<storage, read> step: array<u32>;
@group(0) @binding(9) var<uniform> optim: Optim;

// The rule on element j of the layout, whose gradient is g.
fn update_element(j: u32, g: f32) {
  switch (OPTIMIZER) {
    case 0u: {
      let r = sgd_element(optim, j, w[j], g, state1[j]);
      state1[j] = r.y;
      w[j] = r.x;
    }
    case 1u: {
      let r = adam_element(optim, adam_corrections_once(optim, step[optim.step_index]), w[j], g, state1[j], state2[j]);
      state1[j] = r.y;
      state2[j] = r.z;
      w[j] = r.x;
    }
    default: {
      let r = rmsprop_element(optim, w[j], g, state1[j]);
      state1[j] = r.y;
      w[j] = r.x;
    }
  }
}
