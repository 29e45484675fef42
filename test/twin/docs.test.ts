import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runScenarioPair } from '../../src/twin/runner.js';
import { parseScenario } from '../../src/twin/scenario-schema.js';

const doc = readFileSync(new URL('../../docs/twin.md', import.meta.url), 'utf8');
const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');

describe('docs/twin.md', () => {
  it('has a complete scenario that runs under the default modules and passes', async () => {
    const full = blocks.filter((b) => /^script:/m.test(b));
    expect(full.length).toBeGreaterThanOrEqual(1);
    for (const text of full) {
      const report = await runScenarioPair(parseScenario(text), {});
      expect(report.warden?.error).toBeUndefined();
      expect(report.warden?.expectations.filter((e) => !e.ok)).toEqual([]);
      expect(report.passed).toBe(true);
      expect(report.stopped).toBe(true);
      expect(report.baseline?.capsExceeded).toBe(true);
    }
  });

  it('shows expectation snippets that are valid step expectations', () => {
    const snippet = blocks.find((b) => b.startsWith('expect:'));
    expect(snippet).toBeDefined();
    const indented = (snippet ?? '').replace(/^/gm, '    ');
    const scenario = `id: s\ntitle: s\nconfig: { version: 1, agents: [{ id: a, owner: o }], tools: [{ name: t, class: read }] }\nscript:\n  - repeat: 2\n    steps:\n      - call: { tool: t }\n${indented.replace(/^ {4}/gm, '        ')}\ncaps: { irreversible: 0 }\n`;
    expect(() => parseScenario(scenario)).not.toThrow();
  });
});
