// Shared by the command-line front ends: usage errors (exit code 2) and error formatting.

export function exitWithUsage(message: string, usage: string): number {
  console.error(`error: ${message}\n\n${usage}`);
  return 2;
}

export function formatError(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}
