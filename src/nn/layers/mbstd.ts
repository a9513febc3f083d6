// Minibatch standard deviation (Karras et al. 2018) as a layer: one channel appended to every
// position, how much the samples of the row's group differ (kernels/mbstd.ts). A D that sees it
// can tell a batch of near-copies from a batch of real samples, which pushes G towards variety.
// Groups are consecutive rows within a block (D's real rows, then its fake rows), so real and
// fake samples are never measured together; a block smaller than the group is one group.

import { ShapeError } from '../../gpu/errors.ts';
import { MBSTD_EPS, MBSTD_GROUP, minibatchStddev, minibatchStddevBackward } from '../../kernels/mbstd.ts';
import { asImage, elements, type Layer, type LayerKind, type MinibatchStddevSpec } from '../layer.ts';
import { positiveInteger } from './validate.ts';

/** The rows of a group on `rows` rows of one kind: the spec's group, or all of them where fewer; null where they are not whole groups. */
function groupOf(spec: MinibatchStddevSpec, rows: number): number | null {
  const group = Math.min(spec.group ?? MBSTD_GROUP, rows);
  return Number.isInteger(rows) && rows % group === 0 ? group : null;
}

export const minibatchStddevLayer: LayerKind<MinibatchStddevSpec> = {
  plan(spec, input, where) {
    if (spec.group !== undefined) positiveInteger(where, 'group', spec.group);
    if (spec.eps !== undefined && !(spec.eps > 0 && Number.isFinite(spec.eps))) throw new ShapeError(`${where}: eps must be a positive number, got ${spec.eps}`);
    const [h, w, c] = asImage(input);
    return { output: input.length === 3 ? [h, w, c + 1] : [c + 1], params: [], buffers: [], activation: 'identity' };
  },

  checkTraining(spec, role, rows, where) {
    // A generator samples any number of rows, and has no batch of samples to compare.
    if (role === 'generator') throw new ShapeError(`${where} is a discriminator's layer: it compares the samples of D's batch`);
    if (groupOf(spec, rows) === null) throw new ShapeError(`${where} compares groups of ${Math.min(spec.group ?? MBSTD_GROUP, rows)} rows, which do not divide D's ${rows} rows of one kind`);
  },

  build({ ctx, pool, spec, plan, input, leak, label }): Layer {
    const channels = asImage(input)[2];
    const [cols, outCols] = [elements(input), elements(plan.output)];
    /** The rows of a group on `rows` rows in `blocks` blocks; the rows must be whole groups of whole blocks. */
    const groupFor = (rows: number, blocks: number) => {
      const group = groupOf(spec, rows / blocks);
      if (group === null) throw new ShapeError(`${label}: ${rows} rows in ${blocks} block(s) cannot be cut into groups of ${spec.group ?? MBSTD_GROUP} (give the layer a group that divides the rows of a block)`);
      return group;
    };
    return {
      recordInit: () => [],
      workspace: (rows, name) => ({
        rows,
        output: pool.acquire([rows, outCols], 'f32', `${name}.y`),
        delta: pool.acquire([rows, outCols], 'f32', `${name}.delta`),
        saved: {},
      }),
      forward: (ws, x, opts) => [
        minibatchStddev(ctx, x, ws.output, { channels, group: groupFor(ws.rows, opts.blocks), eps: spec.eps ?? MBSTD_EPS, activation: opts.activation ?? plan.activation, leak, label: `${label}.forward` }),
      ],
      backward(ws, x, opts) {
        // No parameters: only the input gradient, when asked for.
        if (!opts.inputGrad) return [];
        if (opts.inputGrad.columns !== undefined) throw new ShapeError(`${label}: minibatch stddev cannot pass a gradient for some input columns only`);
        const { tensor, gradOf } = opts.inputGrad;
        if (tensor.cols !== cols) throw new ShapeError(`${label}: input gradient ${tensor} must have ${cols} columns`);
        return [minibatchStddevBackward(ctx, ws.delta, x, tensor, { channels, group: groupFor(ws.rows, opts.blocks), eps: spec.eps ?? MBSTD_EPS, gradOf, label: `${label}.backward` })];
      },
    };
  },
};
