import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it, vi } from 'vitest';
import { signVote } from '../../src/actions/approvals/signed-votes.js';
import { generateAgentKeyPair } from '../../src/observe/messages/keys.js';
import { createWarden } from '../../src/warden.js';

const DOC = readFileSync(new URL('../../docs/actions.md', import.meta.url), 'utf8');

/** The TypeScript example of the "Signed votes" section. */
function signedExample(): string {
  const section = DOC.slice(DOC.indexOf('### Signed votes'), DOC.indexOf('### CLI and API'));
  const m = /```ts\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error('no ts example under "Signed votes"');
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

describe('docs/actions.md, signed votes', () => {
  it('the approval-UI example prints what the page says it prints', async () => {
    const code = signedExample();
    const db = join(mkdtempSync(join(tmpdir(), 'warden-docs-signed-')), 'warden.db');
    const js = ts.transpileModule(code.split("'.warden/signed-votes.db'").join(JSON.stringify(db)), {
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
      await new AsyncFunction('createWarden', 'generateAgentKeyPair', 'signVote', body)(
        createWarden,
        generateAgentKeyPair,
        signVote,
      );
    } finally {
      log.mockRestore();
    }
    expect(printed).toEqual(expectedOutput(code));
    expect(printed).toHaveLength(4);
  });
});
