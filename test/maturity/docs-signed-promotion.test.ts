import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it, vi } from 'vitest';
import { signPromotion } from '../../src/maturity/signoff.js';
import { generateAgentKeyPair } from '../../src/observe/messages/keys.js';
import { createWarden } from '../../src/warden.js';

const DOC = readFileSync(new URL('../../docs/actions.md', import.meta.url), 'utf8');

/** The TypeScript example of the maturity section's "Signed sign-offs". */
function signoffExample(): string {
  const section = DOC.slice(DOC.indexOf('**Signed sign-offs.**'), DOC.indexOf('**Automatic demotion.**'));
  const m = /```ts\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error('no ts example under "Signed sign-offs"');
  return m[1] as string;
}

/** The `// ...` lines after each console.log: what the page says the example prints. */
function expectedOutput(code: string): string[] {
  const lines = code.split('\n');
  const out: string[] = [];
  lines.forEach((l, i) => {
    if (!l.includes('console.log(')) return;
    let j = i + 1;
    while (lines[j]?.trim().startsWith('// ')) out.push((lines[j++] as string).trim().slice(3));
  });
  return out;
}

describe('docs/actions.md, signed promotion sign-offs', () => {
  it('the example prints what the page says it prints', async () => {
    const code = signoffExample();
    const db = join(mkdtempSync(join(tmpdir(), 'warden-docs-signoff-')), 'warden.db');
    const js = ts.transpileModule(code.split("'.warden/signed-promotion.db'").join(JSON.stringify(db)), {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
    }).outputText;
    const body = js
      .split('\n')
      .filter((l) => !l.startsWith('import '))
      .join('\n');
    const printed: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      printed.push(args.map((a) => String(a)).join(' '));
    });
    try {
      // The names the example imports from 'agent-warden', bound to the source.
      const AsyncFunction = Object.getPrototypeOf(async function example() {
        await Promise.resolve();
      }).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<void>;
      await new AsyncFunction('createWarden', 'generateAgentKeyPair', 'signPromotion', body)(
        createWarden,
        generateAgentKeyPair,
        signPromotion,
      );
    } finally {
      log.mockRestore();
    }
    expect(printed).toEqual(expectedOutput(code));
    expect(printed).toHaveLength(3);
  });

  it('shows the statement lines the code builds', () => {
    const section = DOC.slice(DOC.indexOf('**Signed sign-offs.**'), DOC.indexOf('**Automatic demotion.**'));
    const labels = /```\n(warden phase promotion v1\n[\s\S]*?)```/
      .exec(section)?.[1]
      ?.trim()
      .split('\n')
      .map((l) => l.split(':')[0]);
    expect(labels).toEqual([
      'warden phase promotion v1',
      'agent',
      'from',
      'to',
      'by',
      'evidence',
      'note',
      'signed-at',
    ]);
  });
});
