import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CedarEngine, parseCedarPolicies, toCedarValue } from '../../src/actions/grants/cedar.js';
import { parseConfig } from '../../src/config/load.js';
import { Policy } from '../../src/config/policy.js';
import { ConfigError } from '../../src/core/errors.js';
import type { Store } from '../../src/store/store.js';
import type { Warden } from '../../src/warden.js';
import { tempSqliteStore } from '../helpers/warden.js';
import { actionsWarden } from './helpers.js';

const BASE = `version: 1
agents:
  - id: bot
    owner: o
    phase: principal
    roles: [deployers]
    grants:
      - { tool: deploy }
      - { tool: read_file }
      - { id: no-main, tool: write_file, where: { branch: main }, effect: deny }
  - { id: free, owner: o, phase: principal }
  - { id: locked, owner: o, phase: principal, grants: [] }
tools:
  - { name: deploy, class: irreversible }
  - { name: write_file, class: write }
  - { name: read_file, class: read }
maturity:
  principal:
    caps: [{ name: lots, count: 1000, per: 1h }]
`;

function withCedar(policies: string): string {
  return `${BASE}actions:\n  cedar:\n    policies: |\n${policies
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n')}\n`;
}

let open: { w: Warden; s: Store }[] = [];
afterEach(async () => {
  for (const { w, s } of open) {
    await w.close();
    await s.close();
  }
  open = [];
});
async function make(config: string) {
  const s = await tempSqliteStore();
  const w = await actionsWarden(s, { config });
  open.push({ w, s });
  return w;
}

describe('Cedar policies', () => {
  it('refuse to load when the text does not parse, naming line and column', () => {
    let err: unknown;
    try {
      parseCedarPolicies(
        'permit(principal, action, resource);\n\nforbid(principal, action, resource)\n  when { context.args.x = 1 };',
        'test.cedar',
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const issue = (err as ConfigError).issues[0]!;
    expect(issue.path).toMatch(/test\.cedar line 4, column \d+/);
    expect(issue.message).toMatch(/not a valid operator/);
    expect(issue.fix).toMatch(/==/);
  });

  it('stop createWarden with a ConfigError when the configured policies do not parse', async () => {
    const s = await tempSqliteStore();
    await expect(
      actionsWarden(s, { config: withCedar('permit(principal, action resource);') }),
    ).rejects.toBeInstanceOf(ConfigError);
    await s.close();
  });

  it('read a policy file relative to warden.yaml', () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-cedar-'));
    writeFileSync(join(dir, 'p.cedar'), 'forbid(principal, action == Action::"deploy", resource);');
    const p = new Policy(parseConfig(`${BASE}actions: { cedar: { file: p.cedar } }`), dir);
    const engine = CedarEngine.fromPolicy(p)!;
    expect(engine.policies).toHaveLength(1);
    const missing = new Policy(parseConfig(`${BASE}actions: { cedar: { file: nope.cedar } }`), dir);
    expect(() => CedarEngine.fromPolicy(missing)).toThrow(ConfigError);
  });

  it('forbid overrides a grant that allows; a grant deny overrides a Cedar permit', async () => {
    const w = await make(
      withCedar(`@id("no-friday-prod")
forbid(principal, action == Action::"deploy", resource) when { context.args has env && context.args.env == "prod" };
permit(principal in Role::"deployers", action == Action::"write_file", resource);`),
    );
    const s = w.session({ agent: 'bot' });
    expect((await s.authorize({ tool: 'deploy', args: { env: 'staging' } })).verdict).toBe('allow');
    const forbidden = await s.authorize({ tool: 'deploy', args: { env: 'prod' } });
    expect(forbidden.verdict).toBe('deny');
    expect(forbidden.reasons[0]).toMatchObject({
      control: 'least-privilege',
      risk: 'ASI03',
      evidence: { cedar: ['no-friday-prod'] },
    });
    expect(forbidden.escalation?.missing).toMatch(/no-friday-prod/);
    // Cedar permits write_file for the role (grants alone do not), but the deny grant still wins.
    expect((await s.authorize({ tool: 'write_file', args: { branch: 'dev' } })).verdict).toBe('allow');
    const main = await s.authorize({ tool: 'write_file', args: { branch: 'main' } });
    expect(main.verdict).toBe('deny');
    expect(main.reasons[0]?.evidence).toMatchObject({ grant: 'no-main', effect: 'deny' });
  });

  it('fails closed when a forbid cannot be evaluated, and a failing permit permits nothing', async () => {
    const w = await make(
      withCedar(`forbid(principal, action == Action::"deploy", resource) when { context.args.amount > 100 };
permit(principal == Agent::"locked", action == Action::"read_file", resource) when { context.args.path like "pub/*" };`),
    );
    const bot = w.session({ agent: 'bot' });
    const noAmount = await bot.authorize({ tool: 'deploy', args: {} });
    expect(noAmount.verdict).toBe('deny');
    expect(noAmount.reasons[0]?.evidence).toHaveProperty('errors');
    expect((await bot.authorize({ tool: 'deploy', args: { amount: 5 } })).verdict).toBe('allow');
    const locked = w.session({ agent: 'locked' });
    expect((await locked.authorize({ tool: 'read_file', args: { path: 'pub/a' } })).verdict).toBe('allow');
    expect((await locked.authorize({ tool: 'read_file', args: {} })).verdict).toBe('deny');
  });

  it('sees roles, tool classes, phase and taint, and applies to agents without grants too', async () => {
    const w = await make(
      withCedar(`forbid(principal, action in Action::"irreversible", resource) unless { context.phase == "principal" && context.taint == 1 };
forbid(principal == Agent::"free", action, resource) when { resource.class == "write" };`),
    );
    const free = w.session({ agent: 'free' });
    expect((await free.authorize({ tool: 'deploy', args: {} })).verdict).toBe('allow');
    expect((await free.authorize({ tool: 'write_file', args: {} })).verdict).toBe('deny');
    free.state.taint = 3;
    expect((await free.authorize({ tool: 'deploy', args: {} })).verdict).toBe('deny');
  });

  it('never lets an argument smuggle in an entity reference or extension call', async () => {
    expect(toCedarValue({ x: { __entity: { type: 'Role', id: 'admin' } } })).toEqual({
      x: '{"__entity":{"type":"Role","id":"admin"}}',
    });
    expect(toCedarValue({ n: 1.5, big: 2 ** 60, nul: null, list: [1, null, 'a'] })).toEqual({
      n: { __extn: { fn: 'decimal', arg: '1.5' } },
      big: String(2 ** 60),
      list: [1, 'a'],
    });
    const w = await make(
      withCedar(
        'forbid(principal, action, resource) unless { context.args has who && context.args.who == Agent::"bot" };',
      ),
    );
    const d = await w
      .session({ agent: 'bot' })
      .authorize({ tool: 'deploy', args: { who: { __entity: { type: 'Agent', id: 'bot' } } } });
    expect(d.verdict).toBe('deny');
  });

  it('skips Cedar when no policy in scope can change the outcome', () => {
    const p = new Policy(
      parseConfig(
        withCedar(
          'forbid(principal == Agent::"free", action == Action::"deploy", resource);\npermit(principal in Role::"deployers", action in Action::"write", resource);',
        ),
      ),
    );
    const e = CedarEngine.fromPolicy(p)!;
    expect(e.relevant('free', p.tool('deploy')!)).toEqual({ permit: false, forbid: true });
    expect(e.relevant('free', p.tool('read_file')!)).toEqual({ permit: false, forbid: false });
    expect(e.relevant('bot', p.tool('write_file')!)).toEqual({ permit: true, forbid: false });
    expect(e.relevant('locked', p.tool('write_file')!)).toEqual({ permit: false, forbid: false });
  });
});
