import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenariosOrExit, Progress } from '../../src/cli/commands/twin.js';
import { CliExit } from '../../src/cli/context.js';
import type { ScenarioReport } from '../../src/twin/runner.js';

const fixtures = new URL('../fixtures/twin/', import.meta.url).pathname;

function sink(isTTY: boolean) {
  const out: string[] = [];
  return { out, stream: { isTTY, write: (s: string) => out.push(s) > 0 } };
}

const report = { id: 'x', passed: true, warden: { durationMs: 12 } } as unknown as ScenarioReport;

describe('warden twin (command helpers)', () => {
  it('lists every problem of every invalid file and exits 2', () => {
    try {
      loadScenariosOrExit([`${fixtures}invalid.scenario.yaml`, `${fixtures}missing.scenario.yaml`]);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(CliExit);
      const e = error as CliExit;
      expect(e.exitCode).toBe(2);
      expect(e.message).toMatch(/invalid\.scenario\.yaml does not validate/);
      expect(e.message).toMatch(
        /- script\[0\]: the step has several kinds \(ingest, call\) \(fix: give exactly one of/,
      );
      expect(e.message).toMatch(/- script\[1\]\.wait: must be a duration/);
      expect(e.message).toMatch(/cannot read .*missing\.scenario\.yaml/);
    }
  });

  it('refuses, before running anything, a scenario whose repeat or clock cannot be expanded', () => {
    const dir = mkdtempSync(join(tmpdir(), 'twin-cli-'));
    const long = 'x'.repeat(199);
    writeFileSync(
      join(dir, 'plan.scenario.yaml'),
      `title: plan\nconfig: { version: 1, agents: [{ id: a, owner: o }], tools: [{ name: t, class: read }] }\nscript:\n  - { wait: 10s }\n  - { call: { tool: t }, at: 5s }\n  - repeat: 12\n    steps: [{ call: { tool: t }, label: "${long}{{i}}" }]\ncaps: { irreversible: 0 }\n`,
    );
    try {
      loadScenariosOrExit([dir]);
      expect.unreachable();
    } catch (error) {
      const e = error as CliExit;
      expect(e.exitCode).toBe(2);
      expect(e.message).toMatch(/scenario plan cannot be planned/);
      expect(e.message).toMatch(/- script\[1\]\.at: 5000 ms is earlier than the step before it/);
      expect(e.message).toMatch(/- script\[2\]\.steps\[0\] \(iteration 10\)\.label: /);
    }
  });

  it('expands a directory to its scenario files and refuses an empty list', () => {
    const loaded = loadScenariosOrExit([fixtures.replace(/\/$/, '') + '/over-cap.scenario.yaml']);
    expect(loaded.map((l) => l.scenario.id)).toEqual(['over-cap']);
    expect(() => loadScenariosOrExit([new URL('../helpers/', import.meta.url).pathname])).toThrow(
      /no scenario files found/,
    );
  });

  it('shows progress as a rewritten line on a terminal and a plain line per scenario otherwise', () => {
    const tty = sink(true);
    const p = new Progress(2, tty.stream);
    p.step(1, { scenario: 'x', mode: 'warden', step: 3, total: 3 });
    p.done(1, report);
    p.done(2, report);
    expect(tty.out[0]).toBe('\r\x1b[K[1/2] x (with Warden) step 3/3');
    expect(tty.out.at(-1)).toBe('\r\x1b[K');
    const plain = sink(false);
    const q = new Progress(1, plain.stream);
    q.step(1, { scenario: 'x', mode: 'warden', step: 3, total: 3 });
    q.done(1, report);
    expect(plain.out).toEqual(['twin: [1/1] x: passed (12 ms)\n']);
    const quiet = sink(false);
    new Progress(1, quiet.stream, false).done(1, report);
    expect(quiet.out).toEqual([]);
  });
});
