import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { wardenJsonSchema } from '../../src/config/json-schema.js';
import { loadConfigFile, parseConfig } from '../../src/config/load.js';
import { ConfigError, WardenError } from '../../src/core/errors.js';
import { STARTER_CONFIG } from '../../src/cli/starter-config.js';
import { cpuMs } from '../helpers/wait.js';

const minimal = `version: 1
agents:
  - id: a
    owner: me
`;

function issuesOf(text: string): { path: string; message: string; fix?: string }[] {
  try {
    parseConfig(text);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).issues;
  }
  throw new Error('expected the config to be rejected');
}

describe('config loading', () => {
  it('accepts a minimal config and applies defaults', () => {
    const c = parseConfig(minimal);
    expect(c.agents[0]?.phase).toBe('intern');
    expect(c.store.path).toBe('.warden/warden.db');
    expect(c.tools).toEqual([]);
  });

  it('accepts the starter file and the example', () => {
    expect(() => parseConfig(STARTER_CONFIG)).not.toThrow();
    expect(() => loadConfigFile('examples/warden.yaml')).not.toThrow();
  });

  it('names the path, the problem and the fix for wrong types and unknown keys', () => {
    const issues = issuesOf(`version: 1
agents:
  - id: a
    owner: me
    phase: boss
    colour: red
tools:
  - name: t
    class: 7
`);
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i]));
    expect(byPath['agents[0].phase']?.fix).toMatch(/intern/);
    expect(byPath['agents[0]']?.message).toMatch(/colour/);
    expect(byPath['tools[0].class']).toBeDefined();
  });

  it('rejects duplicates and contradictions', () => {
    const issues = issuesOf(`version: 1
agents:
  - { id: a, owner: me }
  - { id: a, owner: you }
tools:
  - { name: t, class: read, authoritative: true, tier: 3 }
`);
    expect(issues.map((i) => i.message).join('\n')).toMatch(/duplicate agent id `a`/);
    expect(issues.map((i) => i.message).join('\n')).toMatch(/authoritative but its results are tier 3/);
  });

  it('rejects YAML syntax errors, duplicate keys, non-mappings and a missing version', () => {
    expect(() => parseConfig('version: 1\nagents: [')).toThrow(ConfigError);
    expect(() => parseConfig('version: 1\nversion: 1\nagents: []')).toThrow(ConfigError);
    expect(() => parseConfig('- just a list')).toThrow(ConfigError);
    expect(() => parseConfig('')).toThrow(ConfigError);
    expect(() => parseConfig('agents:\n  - { id: a, owner: me }')).toThrow(ConfigError);
  });

  it('refuses YAML alias bombs without expanding them', () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
      'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
      'version: 1',
      'agents: [{ id: a, owner: me }]',
    ].join('\n');
    let thrown: unknown;
    const used = cpuMs(() => {
      try {
        parseConfig(bomb);
      } catch (error) {
        thrown = error;
      }
    });
    expect(thrown).toBeInstanceOf(ConfigError);
    expect(used).toBeLessThan(5_000);
  });

  it('refuses a 50 MB file before reading it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-cfg-'));
    const file = join(dir, 'big.yaml');
    writeFileSync(file, minimal + '#' + 'x'.repeat(50 * 1024 * 1024));
    try {
      loadConfigFile(file);
      throw new Error('should have thrown');
    } catch (e) {
      expect((e as WardenError).code).toBe('CONFIG_TOO_LARGE');
    }
  });

  it('reports a missing file with a hint', () => {
    try {
      loadConfigFile('/nonexistent/warden.yaml');
      throw new Error('should have thrown');
    } catch (e) {
      expect((e as WardenError).code).toBe('CONFIG_NOT_FOUND');
      expect((e as WardenError).hint).toMatch(/warden init/);
    }
  });

  it('publishes a JSON Schema that describes agents and tools', () => {
    const s = wardenJsonSchema() as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(s.properties)).toEqual(
      expect.arrayContaining(['version', 'agents', 'tools', 'sources', 'store']),
    );
    expect(s.required).toEqual(expect.arrayContaining(['version', 'agents']));
  });
});
