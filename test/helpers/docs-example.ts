import ts from 'typescript';
import { vi } from 'vitest';
import * as warden from '../../src/index.js';

/**
 * Runs the TypeScript examples of the docs as tests, so a page never shows code that does not work. An
 * example's imports of 'agent-warden' bind to the source (every export of src/index.ts), its top-level awaits
 * run, and what it prints with console.log is captured and compared with the `// ...` lines the page shows
 * after each console.log.
 */

/** How a captured console.log argument is written; the default is `String(value)`. */
export type LogFormat = (value: unknown) => string;

/**
 * Runs one example. `replacements` rewrite its text first (e.g. a store path into a temp directory); the
 * lines it printed are returned.
 */
export async function runTsExample(
  code: string,
  replacements: Record<string, string> = {},
  format: LogFormat = String,
): Promise<string[]> {
  let text = code;
  for (const [from, to] of Object.entries(replacements)) text = text.split(from).join(to);
  const js = ts.transpileModule(text, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
  }).outputText;
  const body = js
    .split('\n')
    .filter((l) => !l.startsWith('import '))
    .join('\n');
  const printed: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    printed.push(args.map((a) => (typeof a === 'string' ? a : format(a))).join(' '));
  });
  try {
    // The constructor of async functions, to run the example's top-level awaits.
    const AsyncFunction = Object.getPrototypeOf(async function example() {
      await Promise.resolve();
    }).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<void>;
    const names = Object.keys(warden);
    await new AsyncFunction(...names, body)(...names.map((n) => (warden as Record<string, unknown>)[n]));
  } finally {
    log.mockRestore();
  }
  return printed;
}

/** The `// ...` comment lines that follow each console.log in an example: what the page says it prints. */
export function expectedOutput(code: string): string[] {
  const lines = code.split('\n');
  const out: string[] = [];
  lines.forEach((l, i) => {
    if (!l.includes('console.log(')) return;
    let j = i + 1;
    while (lines[j]?.trim().startsWith('// ')) out.push((lines[j++] as string).trim().slice(3));
  });
  return out;
}

/** The first ```ts block between two markers of a page; throws naming the section when there is none. */
export function tsExampleBetween(doc: string, from: string, to: string): string {
  const section = doc.slice(doc.indexOf(from), doc.indexOf(to));
  const m = /```ts\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error(`no ts example between ${JSON.stringify(from)} and ${JSON.stringify(to)}`);
  return m[1] as string;
}
