import { describe, expect, it } from 'vitest';
import { GrantMatcher } from '../../src/actions/grants/matcher.js';
import { WindowCounters } from '../../src/actions/grants/rate-limit.js';
import { parseConfig } from '../../src/config/load.js';
import { Policy } from '../../src/config/policy.js';

function policyWith(grants: string, extra = ''): Policy {
  return new Policy(
    parseConfig(`version: 1
agents:
  - id: a
    owner: o
${grants}
  - { id: free, owner: o }
tools:
  - { name: deploy, class: irreversible }
  - { name: read_file, class: read }
  - { name: write_file, class: write }
  - { name: create_issue, class: write, server: github }
${extra}`),
  );
}

const call = (tool: string, args: Record<string, unknown> = {}, server?: string) => ({
  tool,
  args,
  ...(server ? { server } : {}),
});

describe('grant matcher', () => {
  it('allows what a grant covers and nothing else (default deny)', () => {
    const p = policyWith(`    grants:
      - { tool: deploy, where: { repoId: "acme/*" } }`);
    const m = new GrantMatcher(p);
    expect(m.match('a', p.tool('deploy')!, call('deploy', { repoId: 'acme/web' }), 0).kind).toBe('allow');
    const miss = m.match('a', p.tool('deploy')!, call('deploy', { repoId: 'evil/web' }), 0);
    expect(miss).toMatchObject({
      kind: 'none',
      why: 'no-match',
      closest: { failures: ['repoId must be like "acme/*" (got "evil/web")'] },
    });
    expect(m.match('a', p.tool('read_file')!, call('read_file'), 0)).toMatchObject({
      kind: 'none',
      why: 'no-tool-grant',
    });
  });

  it('treats a missing grants key as unrestricted and `grants: []` as nothing, or nothing at all when configured', () => {
    const p = policyWith('    grants: []');
    const m = new GrantMatcher(p);
    expect(m.match('free', p.tool('deploy')!, call('deploy'), 0).kind).toBe('unrestricted');
    expect(m.match('a', p.tool('read_file')!, call('read_file'), 0)).toMatchObject({
      kind: 'none',
      why: 'no-grants',
    });
    const strict = policyWith('    grants: []', 'actions: { undeclaredGrants: none }');
    expect(
      new GrantMatcher(strict).match('free', strict.tool('read_file')!, call('read_file'), 0),
    ).toMatchObject({ kind: 'none', why: 'no-grants' });
  });

  it('lets a deny grant win over any allow, in any order', () => {
    for (const grants of [
      `    grants:
      - { tool: write_file }
      - { tool: write_file, where: { path: "db/**" }, effect: deny }`,
      `    grants:
      - { tool: write_file, where: { path: "db/**" }, effect: deny }
      - { tool: write_file }`,
    ]) {
      const p = policyWith(grants);
      const m = new GrantMatcher(p);
      expect(
        m.match('a', p.tool('write_file')!, call('write_file', { path: 'db/users.sqlite' }), 0).kind,
      ).toBe('deny-grant');
      expect(m.match('a', p.tool('write_file')!, call('write_file', { path: 'src/x.ts' }), 0).kind).toBe(
        'allow',
      );
    }
  });

  it('honours servers, tool globs and lapse dates', () => {
    const p = policyWith(`    grants:
      - { tool: "github/*" }
      - { tool: deploy, until: "2026-01-01T00:00:00Z" }`);
    const m = new GrantMatcher(p);
    expect(m.match('a', p.tool('create_issue', 'github')!, call('create_issue', {}, 'github'), 0).kind).toBe(
      'allow',
    );
    expect(m.match('a', p.tool('deploy')!, call('deploy'), Date.parse('2025-12-31T00:00:00Z')).kind).toBe(
      'allow',
    );
    expect(m.match('a', p.tool('deploy')!, call('deploy'), Date.parse('2026-01-02T00:00:00Z'))).toMatchObject(
      { kind: 'none', why: 'lapsed' },
    );
    const scoped = policyWith(`    grants:
      - { tool: create_issue, server: gitlab }`);
    const sm = new GrantMatcher(scoped);
    expect(
      sm.match('a', scoped.tool('create_issue', 'github')!, call('create_issue', {}, 'github'), 0).kind,
    ).toBe('none');
  });

  it('indexes large grant groups without changing answers', () => {
    const lines = Array.from(
      { length: 300 },
      (_, i) => `      - { tool: deploy, where: { repoId: "org/repo-${i}", env: [staging, prod] } }`,
    );
    lines.push('      - { tool: deploy, where: { repoId: "special/*" } }');
    lines.push('      - { tool: deploy, where: { repoId: "org/repo-7", env: prod }, effect: deny }');
    const p = policyWith(`    grants:\n${lines.join('\n')}`);
    const m = new GrantMatcher(p);
    const t = p.tool('deploy')!;
    expect(m.match('a', t, call('deploy', { repoId: 'org/repo-299', env: 'prod' }), 0).kind).toBe('allow');
    expect(m.match('a', t, call('deploy', { repoId: 'org/repo-299', env: 'dev' }), 0).kind).toBe('none');
    expect(m.match('a', t, call('deploy', { repoId: 'special/x' }), 0).kind).toBe('allow');
    expect(m.match('a', t, call('deploy', { repoId: 'org/repo-7', env: 'prod' }), 0).kind).toBe('deny-grant');
    expect(m.match('a', t, call('deploy', { repoId: 'org/repo-7', env: 'staging' }), 0).kind).toBe('allow');
    expect(m.match('a', t, call('deploy', { repoId: ['org/repo-1'], env: 'prod' }), 0).kind).toBe('allow');
  });

  it('warns about contradictions, dead grants and duplicates instead of guessing', () => {
    const p = policyWith(`    grants:
      - { id: all-writes, tool: write_file }
      - { id: no-writes, tool: write_file, effect: deny }
      - { tool: deploy, where: { env: prod } }
      - { tool: deploy, where: { env: prod }, effect: deny, rate: { count: 1, per: 1h } }
      - { tool: nonexistent }
      - { tool: read_file }
      - { tool: read_file }`);
    const w = new GrantMatcher(p).warnings.join('\n');
    expect(w).toMatch(/all-writes.*no-writes.*deny wins/);
    expect(w).toMatch(/denies the same calls/);
    expect(w).toMatch(/matches no tool declared/);
    expect(w).toMatch(/deny grant with a rate/);
    expect(w).toMatch(/grants\[6\] repeats agents\[0\]\.grants\[5\]/);
  });
});

describe('rate windows', () => {
  it('counts within a sliding window, releases reservations, and shares committed counts', () => {
    const c = new WindowCounters();
    const a = c.tryAcquire('k', 1000, 0, 2);
    const b = c.tryAcquire('k', 1000, 10, 2);
    expect(a && b).toBeTruthy();
    expect(c.tryAcquire('k', 1000, 20, 2)).toBeUndefined();
    c.release('k', b!);
    c.release('k', b!);
    expect(c.usage('k', 1000, 20).count).toBe(1);
    expect(c.tryAcquire('k', 1000, 30, 2)).toBeDefined();
    expect(c.tryAcquire('k', 1000, 1001, 2)).toBeDefined();
    expect(c.usage('k', 1000, 1001).count).toBe(2);
    // An entry released after it left the window does not push the count below zero.
    c.release('k', a!);
    expect(c.usage('k', 1000, 5000).count).toBe(0);
    c.add('d', 1000, 0, 0, 'x');
    c.add('d', 1000, 1, 0, 'x');
    c.add('d', 1000, 2, 5, 'y');
    expect(c.usage('d', 1000, 3)).toEqual({ count: 3, sum: 5, distinct: 2 });
    expect(c.hasTag('d', 1000, 3, 'x')).toBe(true);
  });
});
