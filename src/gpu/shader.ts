// A WGSL source with a file name, so compiler messages can name the file and line.
// WGSL has no include directive: a shader lists the sources it needs before its own
// text (e.g. the Philox generator shared by random and gather), and `composeShader`
// concatenates them, keeping a map from composed lines back to file lines.

export interface ShaderSource {
  /** File name under shaders/, e.g. `matmul.wgsl`. */
  readonly name: string;
  readonly code: string;
  /** Sources prepended before `code`, in order. */
  readonly includes?: readonly ShaderSource[];
}

export function defineShader(name: string, code: string, includes: readonly ShaderSource[] = []): ShaderSource {
  return { name, code, includes };
}

export interface ComposedShader {
  readonly code: string;
  /** Composed line (1-based) -> file and line in that file. */
  locate(line: number): { file: string; line: number };
}

export function composeShader(source: ShaderSource): ComposedShader {
  const parts: ShaderSource[] = [];
  const seen = new Set<string>();
  const visit = (s: ShaderSource) => {
    if (seen.has(s.name)) return;
    seen.add(s.name);
    for (const inc of s.includes ?? []) visit(inc);
    parts.push(s);
  };
  visit(source);
  const starts: { file: string; first: number; count: number }[] = [];
  let first = 1;
  const texts: string[] = [];
  for (const p of parts) {
    const text = p.code.endsWith('\n') ? p.code : p.code + '\n';
    const count = text.split('\n').length - 1;
    starts.push({ file: p.name, first, count });
    texts.push(text);
    first += count;
  }
  return {
    code: texts.join(''),
    locate(line: number) {
      for (const s of starts) {
        if (line >= s.first && line < s.first + s.count) return { file: s.file, line: line - s.first + 1 };
      }
      return { file: source.name, line };
    },
  };
}

/** Formats a compilation info message as `file:line:col: type: text`. */
export function formatCompilationMessages(composed: ComposedShader, messages: readonly GPUCompilationMessage[]): string {
  return messages
    .map((m) => {
      const where = composed.locate(m.lineNum);
      return `${where.file}:${where.line}:${m.linePos}: ${m.type}: ${m.message}`;
    })
    .join('\n');
}
