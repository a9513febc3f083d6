// Shared by the command-line front ends: flag parsing with --help, usage errors (exit code 2),
// strict number parsing, error formatting.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { SampleNormalisation, SampleWeights } from '../gan/sampler.ts';

/** A bad flag or value: the tool prints it with the usage and exits with code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function exitWithUsage(message: string, usage: string): number {
  console.error(`error: ${message}\n\n${usage}`);
  return 2;
}

type FlagOptions = NonNullable<ParseArgsConfig['options']>;
type FlagValues<O extends FlagOptions> = ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: false }>>['values'];

/**
 * The flags of a command that takes no positionals, with -h/--help added; or the exit code to
 * stop with: 2 after a usage error (printed with the usage), 0 after --help (usage printed).
 */
export function parseFlags<const O extends FlagOptions>(options: O, usage: string, args?: string[]): FlagValues<O> | number {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h', default: false } }, strict: true, allowPositionals: false }));
  } catch (e) {
    return exitWithUsage((e as Error).message, usage);
  }
  if (values.help) {
    console.log(usage);
    return 0;
  }
  return values as FlagValues<O>;
}

export function formatError(e: unknown): string {
  if (e instanceof Error) return e.name === 'Error' ? e.message : `${e.name}: ${e.message}`;
  return String(e);
}

/** The largest integer a count flag takes by default: above it, doubles no longer count exactly. */
export const MAX_COUNT = Number.MAX_SAFE_INTEGER;

/**
 * An integer in [min, max], written as plain digits (no 1e3, no 12abc). `limit` says why max is
 * the limit, in the message for a value above it.
 */
export function parseCount(flag: string, text: string, min = 1, max = MAX_COUNT, limit = '2^53 - 1, the largest exact integer'): number {
  if (!/^\d+$/.test(text.trim())) throw new UsageError(`${flag} takes an integer, got '${text}'`);
  const n = Number(text);
  if (n < min) throw new UsageError(`${flag} must be an integer >= ${min}, got '${text}'`);
  if (!(n <= max)) throw new UsageError(`${flag} must be at most ${max} (${limit}), got '${text}'`);
  return n;
}

export function parsePositiveNumber(flag: string, text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} takes a positive number, got '${text}'`);
  return n;
}

/** `--backend` values: Dawn options written KEY=VALUE (e.g. backend=vulkan), checked before Dawn sees them. */
export function parseDawnOptions(values: readonly string[] | undefined): string[] {
  for (const v of values ?? []) {
    if (!/^[A-Za-z][\w-]*=\S+$/.test(v)) throw new UsageError(`--backend takes a Dawn option written KEY=VALUE (e.g. backend=vulkan), got '${v}'`);
  }
  return [...(values ?? [])];
}

/** --weights average|trained (undefined: the sampler's default, the average where the checkpoint keeps one). */
export function parseWeights(value: string | undefined): SampleWeights | undefined {
  if (value === undefined || value === 'average' || value === 'trained') return value;
  throw new UsageError(`--weights must be average or trained, got '${value}'`);
}

/** --bn-stats running|batch. */
export function parseNormalisation(value: string | undefined): SampleNormalisation {
  if (value === undefined || value === 'running' || value === 'batch') return value ?? 'running';
  throw new UsageError(`--bn-stats must be running or batch, got '${value}'`);
}
