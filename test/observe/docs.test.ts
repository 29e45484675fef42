import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../src/config/load.js';

const doc = readFileSync(new URL('../../docs/observe.md', import.meta.url), 'utf8');
const yamlBlocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
const tsBlocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
// A directory of this run's own, outside the tree: a fixed one was shared with (and deleted by) any other run at
// the same time, and one left behind by a killed run was picked up by tsc and eslint.
const dir = mkdtempSync(join(tmpdir(), 'warden-docs-observe-'));
const src = join(import.meta.dirname, '..', '..', 'src');

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** What each `console.log(...); // expected` line of a block should print, in order. */
function expectations(code: string): string[] {
  return code
    .split('\n')
    .filter((l) => /^\s*console\.log\(.*\);\s*\/\/ /.test(l))
    .map((l) => l.slice(l.lastIndexOf('// ') + 3).trim());
}

describe('docs/observe.md', () => {
  it('has a complete configuration example that validates', () => {
    const full = yamlBlocks.filter((b) => b.startsWith('version: 1'));
    expect(full.length).toBeGreaterThanOrEqual(1);
    for (const text of full) expect(() => parseConfig(text)).not.toThrow();
  });

  tsBlocks.forEach((code, i) => {
    it(`runs TypeScript example ${i + 1} and prints what its comments say`, async () => {
      const file = join(dir, `example-${i}.ts`);
      // The examples import the published package; here they run against the sources.
      writeFileSync(file, code.replaceAll("from 'agent-warden'", `from '${join(src, 'index.js')}'`));
      const printed: string[] = [];
      const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
        printed.push(args.map(String).join(' '));
      });
      try {
        await import(file);
      } finally {
        log.mockRestore();
      }
      const wanted = expectations(code);
      expect(wanted.length).toBeGreaterThan(0);
      expect(printed).toHaveLength(wanted.length);
      wanted.forEach((w, k) => {
        if (w.endsWith('…')) expect(printed[k]?.startsWith(w.slice(0, -1))).toBe(true);
        else expect(printed[k]).toBe(w);
      });
    });
  });
});
