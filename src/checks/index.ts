// Every kernel check, in the order `npm run check` prints them.

import { activationChecks } from './activations.ts';
import type { Check } from './check.ts';

export const allChecks: Check[] = [...activationChecks];

export type { Check, CheckResult } from './check.ts';
