// Shared by the command-line front ends: usage errors (exit code 2), strict number parsing,
// error formatting.

/** A bad flag or value: the tool prints it with the usage and exits with code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function exitWithUsage(message: string, usage: string): number {
  console.error(`error: ${message}\n\n${usage}`);
  return 2;
}

export function formatError(e: unknown): string {
  if (e instanceof Error) return e.name === 'Error' ? e.message : `${e.name}: ${e.message}`;
  return String(e);
}

/** An integer >= min, written as plain digits (no 1e3, no 12abc). */
export function parseCount(flag: string, text: string, min = 1): number {
  if (!/^\d+$/.test(text.trim())) throw new UsageError(`${flag} takes an integer, got '${text}'`);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`${flag} must be an integer >= ${min}, got '${text}'`);
  return n;
}

export function parsePositiveNumber(flag: string, text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} takes a positive number, got '${text}'`);
  return n;
}
