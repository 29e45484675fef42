import { afterEach, describe, expect, it } from 'vitest';
import type { AgentView } from '../../src/cli/commands/agents.js';
import type { Alert } from '../../src/observe/alerts/alert.js';
import type { InventoryRecord } from '../../src/observe/inventory/inventory.js';
import { generateAgentKeyPair } from '../../src/observe/messages/keys.js';
import { OBSERVE_SERVICE, type ObserveService } from '../../src/observe/service.js';
import { createWarden, type Warden } from '../../src/warden.js';
import { until } from '../helpers/wait.js';
import { configFile, runCli } from '../helpers/cli.js';
import { OBSERVE_CONFIG } from './helpers.js';

const key = generateAgentKeyPair();
const CONFIG = OBSERVE_CONFIG.replace(
  '{ id: planner, owner: ops, phase: senior }',
  `{ id: planner, owner: ops, phase: senior, publicKey: ${key.publicKey} }`,
);

let open: Warden[] = [];
afterEach(async () => {
  for (const w of open) await w.close().catch(() => undefined);
  open = [];
});

/** A Warden over the config file, as an application would run it (default extensions). */
async function app(file: string): Promise<{ warden: Warden; observe: ObserveService }> {
  const warden = await createWarden({ configPath: file });
  open.push(warden);
  const observe = warden.runtime.service<ObserveService>(OBSERVE_SERVICE);
  if (!observe) throw new Error('observe service missing');
  return { warden, observe };
}

describe('agent inventory', () => {
  it('lists configured agents, what they did, and flags a shadow agent with an alert', async () => {
    const file = configFile(CONFIG);
    const { warden, observe } = await app(file);
    const s = warden.session({ agent: 'support', user: 'u1' });
    await s.authorize({ tool: 'search', args: { q: 'a' } });
    await s.authorize({ tool: 'search', args: { q: 'b' } });
    await s.authorize({ tool: 'list_repos', args: {} });
    const ghost = await warden.session({ agent: 'ghost-bot' }).authorize({ tool: 'search', args: {} });
    expect(ghost.verdict).toBe('deny');
    expect(ghost.reasons[0]).toMatchObject({ control: 'shadow-agent', risk: 'ASI10' });
    await warden.session({ agent: 'ghost-bot' }).authorize({ tool: 'search', args: {} });
    await observe.flush();

    const store = warden.runtime.store;
    const support = (await store.getDoc<InventoryRecord>('inventory', 'support'))!.body;
    expect(support).toMatchObject({ configured: true, shadow: false, owner: 'cx', events: 3 });
    expect(support.tools.search?.calls).toBe(2);
    expect(support.firstSeen).not.toBeNull();
    const shadow = (await store.getDoc<InventoryRecord>('inventory', 'ghost-bot'))!.body;
    expect(shadow).toMatchObject({ configured: false, shadow: true, events: 2, refused: 2 });
    const alerts = (await store.listDocs<Alert>('alerts'))
      .map((d) => d.body)
      .filter((a) => a.rule === 'shadow-agent');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ agent: 'ghost-bot', severity: 'high' });
    // Configured agents are in the inventory from the start, with their key's fingerprint.
    expect(
      (await store.getDoc<InventoryRecord>('inventory', 'planner'))!.body.identity.publicKeyFingerprint,
    ).toBe(key.fingerprint);
    await warden.close();

    const list = await runCli(['--config', file, 'agents', 'list', '--json']);
    expect(list.code).toBe(0);
    const views = JSON.parse(list.stdout) as AgentView[];
    expect(views.map((v) => v.id)).toContain('ghost-bot');
    expect(views.find((v) => v.id === 'ghost-bot')).toMatchObject({
      shadow: true,
      status: 'active',
      openAlerts: [{ rule: 'shadow-agent' }],
    });
    expect(views.find((v) => v.id === 'support')).toMatchObject({
      configured: true,
      status: 'active',
      events: 3,
      owner: 'cx',
    });
    expect(views.find((v) => v.id === 'worker')).toMatchObject({ status: 'never seen', events: 0 });

    const table = await runCli(['--config', file, 'agents', 'list']);
    expect(table.stdout).toMatch(/^AGENT\s+KIND\s+OWNER/);
    expect(table.stdout).toMatch(/ghost-bot\s+SHADOW/);

    const show = await runCli(['--config', file, 'agents', 'show', 'planner']);
    expect(show.stdout).toContain(key.fingerprint);
    const missing = await runCli(['--config', file, 'agents', 'show', 'nobody']);
    expect(missing.code).toBe(1);
  });

  it('keeps counting across restarts and replicas instead of overwriting', async () => {
    const file = configFile(CONFIG);
    const a = await app(file);
    const b = await app(file);
    await a.warden.session({ agent: 'worker' }).authorize({ tool: 'search', args: {} });
    await b.warden.session({ agent: 'worker' }).authorize({ tool: 'search', args: {} });
    await b.warden.session({ agent: 'worker' }).authorize({ tool: 'write_file', args: { path: 'p' } });
    await Promise.all([a.observe.flush(), b.observe.flush()]);
    const rec = (await a.warden.runtime.store.getDoc<InventoryRecord>('inventory', 'worker'))!.body;
    expect(rec.events).toBe(3);
    expect(rec.tools.search?.calls).toBe(2);
    expect(Object.keys(rec.tools).sort()).toEqual(['search', 'write_file']);
  });
});

describe('warden kill and release', () => {
  it('halts an agent from the command line in another Warden sharing the store, and records who and why', async () => {
    const file = configFile(CONFIG);
    const { warden } = await app(file);
    const s = warden.session({ agent: 'worker' });
    expect((await s.authorize({ tool: 'search', args: {} })).verdict).toBe('allow');

    const kill = await runCli([
      '--config',
      file,
      'kill',
      'worker',
      '--reason',
      'runaway loop',
      '--by',
      'alice',
    ]);
    expect(kill.code).toBe(0);
    expect(kill.stdout).toMatch(/kill switch engaged for agent worker by alice: runaway loop/);
    await until(
      () => warden.runtime.killSwitches.check('worker', s.id) !== undefined,
      "the CLI's kill reaches the running Warden",
    );
    const halted = await s.authorize({ tool: 'search', args: {} });
    expect(halted.verdict).toBe('halt');
    expect(halted.reasons[0]).toMatchObject({ control: 'kill-switch', evidence: { by: 'alice' } });
    expect(s.signal.aborted).toBe(true);
    // Other agents keep working.
    expect((await warden.session({ agent: 'support' }).authorize({ tool: 'search', args: {} })).verdict).toBe(
      'allow',
    );

    const listed = await runCli(['--config', file, 'kill', '--list']);
    expect(listed.stdout).toMatch(/agent worker\s+by alice/);

    const release = await runCli([
      '--config',
      file,
      'release',
      'worker',
      '--reason',
      'fixed the loop',
      '--by',
      'bob',
    ]);
    expect(release.code).toBe(0);
    await until(
      () => warden.runtime.killSwitches.check('worker', 'x') === undefined,
      "the CLI's release reaches the running Warden",
    );
    expect((await warden.session({ agent: 'worker' }).authorize({ tool: 'search', args: {} })).verdict).toBe(
      'allow',
    );

    const again = await runCli(['--config', file, 'release', 'worker', '--reason', 'twice', '--by', 'bob']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/no kill switch was engaged/);

    await warden.runtime.ledger.flush();
    const engaged = await warden.runtime.store.readLedger({ type: 'kill.engaged' });
    const released = await warden.runtime.store.readLedger({ type: 'kill.released' });
    expect(engaged.map((r) => r.data)).toEqual([
      expect.objectContaining({ scope: 'agent', target: 'worker', by: 'alice', reason: 'runaway loop' }),
    ]);
    expect(released.map((r) => r.data)).toEqual([
      expect.objectContaining({ by: 'bob', reason: 'fixed the loop', wasEngaged: true }),
      expect.objectContaining({ by: 'bob', reason: 'twice', wasEngaged: false }),
    ]);
  });

  it('kills one session or everything, and refuses bad usage', async () => {
    const file = configFile(CONFIG);
    const { warden } = await app(file);
    const one = warden.session({ agent: 'worker' });
    const other = warden.session({ agent: 'worker' });
    expect((await runCli(['--config', file, 'kill', '--session', one.id, '--reason', 'stuck'])).code).toBe(0);
    await until(
      () => warden.runtime.killSwitches.check('worker', one.id) !== undefined,
      "the CLI's session kill reaches the running Warden",
    );
    expect((await one.authorize({ tool: 'search', args: {} })).verdict).toBe('halt');
    expect((await other.authorize({ tool: 'search', args: {} })).verdict).toBe('allow');

    expect((await runCli(['--config', file, 'kill', '--all', '--reason', 'incident 42'])).code).toBe(0);
    await until(
      () => warden.runtime.killSwitches.check('support', 'any') !== undefined,
      "the CLI's global kill reaches the running Warden",
    );
    expect(
      (await warden.session({ agent: 'support' }).authorize({ tool: 'search', args: {} })).reasons[0]!
        .message,
    ).toMatch(/global.*incident 42/);
    expect((await runCli(['--config', file, 'release', '--all', '--reason', 'resolved'])).code).toBe(0);
    expect(
      (await runCli(['--config', file, 'release', '--session', one.id, '--reason', 'resolved'])).code,
    ).toBe(0);
    await until(
      () => warden.runtime.killSwitches.list().length === 0,
      "the CLI's releases reach the running Warden",
    );

    const noReason = await runCli(['--config', file, 'kill', 'worker']);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/needs --reason/);
    const two = await runCli(['--config', file, 'kill', 'worker', '--all', '--reason', 'x']);
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(/exactly one of/);
  });

  it('quarantines and releases an agent from the command line', async () => {
    const file = configFile(CONFIG);
    expect(
      (
        await runCli([
          '--config',
          file,
          'agents',
          'quarantine',
          'worker',
          '--reason',
          'suspicious',
          '--by',
          'sec',
        ])
      ).code,
    ).toBe(0);
    const views = JSON.parse(
      (await runCli(['--config', file, 'agents', 'list', '--json'])).stdout,
    ) as AgentView[];
    expect(views.find((v) => v.id === 'worker')).toMatchObject({
      status: 'quarantined',
      quarantine: { by: 'sec', mode: 'approve' },
    });
    const { warden } = await app(file);
    const s = warden.session({ agent: 'worker' });
    await s.ingest({ source: 'user', text: 'write to x' });
    const d = await s.authorize({ tool: 'write_file', args: { path: 'x' } });
    expect(d.verdict).toBe('approve');
    expect(d.reasons.map((r) => r.control)).toContain('quarantine');
    expect(
      (
        await runCli([
          '--config',
          file,
          'agents',
          'unquarantine',
          'worker',
          '--reason',
          'cleared',
          '--by',
          'sec',
        ])
      ).code,
    ).toBe(0);
    expect(
      (await runCli(['--config', file, 'agents', 'unquarantine', 'worker', '--reason', 'again'])).code,
    ).toBe(1);
  });
});
