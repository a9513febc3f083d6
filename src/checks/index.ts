// Every kernel check, in the order `npm run check` prints them.

import { activationChecks } from './activations.ts';
import { gatherChecks } from './gather.ts';
import { randomChecks } from './random.ts';
import { lossChecks } from './losses.ts';
import { optimChecks } from './optim.ts';
import { reduceChecks } from './reduce.ts';
import { matmulChecks } from './matmul.ts';
import { matmulUpdateChecks } from './matmul-update.ts';
import { headChecks } from './head.ts';
import { convChecks } from './conv.ts';
import { columnsChecks } from './columns.ts';
import { lossStepChecks, metricsChecks } from './metrics.ts';
import { mixtureChecks } from './mixture.ts';
import { crossEntropyChecks } from './crossentropy.ts';
import { rowReduceChecks } from './rowreduce.ts';
import { spectralChecks } from './spectral.ts';
import { batchNormChecks } from './batchnorm.ts';
import { mbstdChecks } from './mbstd.ts';
import { halfChecks } from './half.ts';
import type { Check } from './check.ts';

export const allChecks: Check[] = [...activationChecks, ...lossChecks, ...reduceChecks, ...optimChecks, ...randomChecks, ...gatherChecks, ...mixtureChecks, ...columnsChecks, ...metricsChecks, ...lossStepChecks, ...headChecks, ...halfChecks, ...matmulChecks, ...matmulUpdateChecks, ...convChecks, ...rowReduceChecks, ...crossEntropyChecks, ...spectralChecks, ...batchNormChecks, ...mbstdChecks];

export type { Check, CheckResult } from './check.ts';
