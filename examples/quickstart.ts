// Train the paper's Figure 1 GAN for a few seconds, look at what G makes, save a checkpoint.
// Run: node --import ./scripts/register.mjs examples/quickstart.ts
import { writeFile } from 'node:fs/promises';
import { GanTrainer, openNodeContext, preset, saveCheckpoint } from '../src/node.ts';

const ctx = await openNodeContext();
const trainer = await GanTrainer.create(ctx, { ...preset('toy-1d'), seed: 1 });
await trainer.run(600, { onMetrics: (m) => console.log(`${m.iteration}: D ${m.dLoss.toFixed(3)} G ${m.gLoss.toFixed(3)} D(x) ${m.dReal.toFixed(2)}`) });
const x = await trainer.generate(trainer.fixedNoise(1000)); // G(z) for 1,000 fixed noise rows
console.log('mean of G(z):', x.reduce((a, b) => a + b, 0) / x.length, '(target 4)');
await writeFile('quickstart.safetensors', await saveCheckpoint(trainer));
trainer.destroy();
await ctx.destroy();
