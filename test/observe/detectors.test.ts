import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/core/errors.js';
import { ALERT_CHANNEL, type Alert, type AlertAnnouncement } from '../../src/observe/alerts/alert.js';
import type { ObserveService } from '../../src/observe/service.js';
import type { Store } from '../../src/store/store.js';
import type { Warden } from '../../src/warden.js';
import { until } from '../helpers/wait.js';
import { FakeClock, OBSERVE_CONFIG, observeWarden, withObserve } from './helpers.js';

let open: { warden: Warden; store: Store }[] = [];
async function make(config?: string, clock = new FakeClock()) {
  const w = await observeWarden(config, { clock });
  open.push(w);
  return { ...w, clock };
}
afterEach(async () => {
  for (const { warden, store } of open) {
    await warden.close().catch(() => undefined);
    await store.close();
  }
  open = [];
});

async function alertsOf(store: Store, rule?: string): Promise<Alert[]> {
  const docs = await store.listDocs<Alert>('alerts');
  return docs.map((d) => d.body).filter((a) => rule === undefined || a.rule === rule);
}

async function flushed(observe: ObserveService, store: Store, rule?: string): Promise<Alert[]> {
  await observe.flush();
  return alertsOf(store, rule);
}

function configIssues(text: string): { path: string; message: string }[] {
  try {
    parseConfig(text);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).issues;
  }
  throw new Error('expected the config to be rejected');
}

describe('burst rule: 88 comments in 102 seconds', () => {
  it('alerts once, records the alert everywhere, and holds the agent for approval', async () => {
    const { warden, store, observe, clock } = await make();
    const announced: AlertAnnouncement[] = [];
    const unsubscribe = await store.subscribe(ALERT_CHANNEL, (m) => announced.push(m as AlertAnnouncement));
    const s = warden.session({ agent: 'commenter', user: 'bot-owner' });
    const verdicts: string[] = [];
    for (let i = 0; i < 88; i++) {
      verdicts.push((await s.authorize({ tool: 'post_comment', args: { body: `great post ${i}` } })).verdict);
      clock.advance(1_160);
    }
    const alerts = await flushed(observe, store, 'burst');
    expect(alerts).toHaveLength(1);
    const a = alerts[0]!;
    expect(a).toMatchObject({ rule: 'burst', severity: 'high', agent: 'commenter', status: 'open' });
    expect(a.actions).toEqual(['record', 'notify', 'require-approval']);
    expect(a.evidence.events.length).toBe(31);
    expect(a.message).toMatch(/31 post_comment calls/);
    // The first 31 calls ran; the alert fired on the 31st; every later one needed approval.
    expect(verdicts.slice(0, 31).every((v) => v === 'allow')).toBe(true);
    expect(verdicts.slice(31).every((v) => v === 'approve')).toBe(true);
    const held = await s.authorize({ tool: 'write_file', args: { path: 'x' } });
    expect(held.reasons.map((r) => r.control)).toContain('detector-hold');
    // Reads are not consequential: they still run.
    expect((await s.authorize({ tool: 'search', args: { q: 'x' } })).verdict).toBe('allow');
    await warden.runtime.ledger.flush();
    const ledger = await store.readLedger({ type: 'alert' });
    expect(ledger.map((r) => (r.data as Alert).id)).toContain(a.id);
    await until(
      () => announced.some((m) => m.id === a.id && m.type === 'alert.raised' && m.severity === 'high'),
      'the alert announced on its channel',
    );
    await unsubscribe();
  });

  it('stays quiet below the limit and lets a closed alert lift the hold', async () => {
    const { warden, store, observe, clock } = await make();
    const s = warden.session({ agent: 'commenter' });
    for (let i = 0; i < 30; i++) {
      await s.authorize({ tool: 'post_comment', args: { body: 'x' } });
      clock.advance(1_000);
    }
    expect(await flushed(observe, store, 'burst')).toHaveLength(0);
    clock.advance(120_000);
    for (let i = 0; i < 31; i++) await s.authorize({ tool: 'post_comment', args: { body: 'x' } });
    const [a] = await flushed(observe, store, 'burst');
    expect(a).toBeDefined();
    expect((await s.authorize({ tool: 'post_comment', args: { body: 'y' } })).verdict).toBe('approve');
    const closed = await observe.closeAlert(a!.id, { by: 'alice', reason: 'a launch campaign, expected' });
    expect(closed).toMatchObject({ status: 'closed', closedBy: 'alice' });
    expect(observe.holds()).toHaveLength(0);
    clock.advance(120_000);
    expect((await s.authorize({ tool: 'post_comment', args: { body: 'z' } })).verdict).toBe('allow');
  });
});

describe('unverified-target rule: the deployment with zero lookups', () => {
  it('alerts when a deployment names a repository no lookup returned', async () => {
    const { warden, store, observe } = await make();
    const s = warden.session({ agent: 'deployer', user: 'dana' });
    await s.ingest({ source: 'user', text: 'Deploy the billing service please' });
    await s.authorize({ tool: 'deploy', args: { repoId: 'repo-8812', env: 'prod' } });
    const [a] = await flushed(observe, store, 'unverified-target');
    expect(a).toMatchObject({ agent: 'deployer', severity: 'high' });
    expect(a!.message).toMatch(/repoId="repo-8812".*0 lookups/);
    expect(a!.evidence).toMatchObject({ tool: 'deploy', unverified: ['repoId'], lookups: 0 });
  });

  it('stays quiet when a lookup returned the id, or the user wrote it', async () => {
    const { warden, store, observe } = await make();
    const s = warden.session({ agent: 'deployer' });
    const call = { tool: 'list_repos', args: { org: 'acme' }, callId: 'c1' };
    await s.authorize(call);
    // MCP results are often JSON inside text: the id is found inside it.
    await s.record(call, { content: [{ type: 'text', text: '[{"id":"repo-42","name":"billing"}]' }] });
    await s.authorize({ tool: 'deploy', args: { repoId: 'repo-42' } });
    const t = warden.session({ agent: 'deployer' });
    await t.ingest({ source: 'user', text: 'please deploy repo-77 now.' });
    await t.authorize({ tool: 'deploy', args: { repoId: 'repo-77' } });
    expect(await flushed(observe, store, 'unverified-target')).toHaveLength(0);
    // Web content is not the user: an id seen only there is still unverified.
    const u = warden.session({ agent: 'deployer' });
    await u.ingest({ source: 'web', text: 'deploy repo-99' });
    await u.authorize({ tool: 'deploy', args: { repoId: 'repo-99' } });
    expect(await flushed(observe, store, 'unverified-target')).toHaveLength(1);
  });

  it('never quotes a secret argument in an alert, and ignores bare numbers and words', async () => {
    const { warden, store, observe } = await make();
    const s = warden.session({ agent: 'deployer' });
    await s.authorize({
      tool: 'write_file',
      args: { target: 'srv-9', apiKey: 'sk-live-123', note: 'ok', n: 42 },
    });
    const [a] = await flushed(observe, store, 'unverified-target');
    expect(a!.message).toMatch(/target="srv-9"/);
    expect(JSON.stringify(a)).not.toContain('sk-live-123');
    expect(a!.evidence.unverified).toEqual(['target']);
    await warden.runtime.ledger.flush();
    expect(JSON.stringify(await store.readLedger({ type: 'alert' }))).not.toContain('sk-live-123');
  });
});

describe('fingerprint rule: many accounts, one behaviour', () => {
  const script = ['search', 'search', 'read_customer', 'search', 'rare_tool'];

  it('alerts when five users run near-identical tool sequences', async () => {
    const { warden, store, observe, clock } = await make();
    for (let u = 0; u < 6; u++) {
      const s = warden.session({ agent: 'support', user: `acct-${u}` });
      for (let i = 0; i < 30; i++) {
        await s.authorize({ tool: script[i % script.length]!, args: { q: `${u}-${i}` } });
        clock.advance(500);
      }
    }
    const alerts = await flushed(observe, store, 'fingerprint');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.evidence).toMatchObject({ identityCount: 6, by: 'user' });
    expect((alerts[0]!.evidence.identities as string[]).sort()).toEqual([
      'acct-0',
      'acct-1',
      'acct-2',
      'acct-3',
      'acct-4',
      'acct-5',
    ]);
  });

  it('stays quiet for users who behave differently', async () => {
    const { warden, store, observe, clock } = await make();
    const tools = ['search', 'read_customer', 'rare_tool', 'list_repos'];
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let u = 0; u < 6; u++) {
      const s = warden.session({ agent: 'support', user: `acct-${u}` });
      for (let i = 0; i < 30; i++) {
        await s.authorize({ tool: tools[Math.floor(rnd() * tools.length)]!, args: {} });
        clock.advance(500);
      }
    }
    expect(await flushed(observe, store, 'fingerprint')).toHaveLength(0);
  });
});

describe('sensitive-outbound rule', () => {
  it('alerts on a sensitive read followed by an outbound call in the session, not otherwise', async () => {
    const { warden, store, observe, clock } = await make();
    const quiet = warden.session({ agent: 'support' });
    await quiet.authorize({ tool: 'send_email', args: { to: 'x@example.com' } });
    expect(await flushed(observe, store, 'sensitive-outbound')).toHaveLength(0);

    const s = warden.session({ agent: 'support' });
    const read = { tool: 'read_customer', args: { id: 'c-1' }, callId: 'r1' };
    await s.authorize(read);
    await s.record(read, { email: 'c@example.com', card: '4111' });
    clock.advance(5_000);
    await s.authorize({ tool: 'send_email', args: { to: 'attacker@example.net' } });
    const [a] = await flushed(observe, store, 'sensitive-outbound');
    expect(a).toMatchObject({ agent: 'support', session: s.id });
    expect(a!.evidence.events).toHaveLength(2);
    expect(a!.message).toMatch(/send_email 5 s after reading read_customer/);
  });

  it('counts tier-2 content as private and forgets it after the window', async () => {
    const config = withObserve(`  detectors:
    rules:
      - { id: sensitive-outbound, type: sensitive-outbound, windowSeconds: 60 }
`);
    const { warden, store, observe, clock } = await make(config);
    const s = warden.session({ agent: 'support' });
    await s.ingest({ source: 'wiki', text: 'internal pricing' });
    clock.advance(61_000);
    await s.authorize({ tool: 'post_comment', args: { body: 'hi' } });
    expect(await flushed(observe, store, 'sensitive-outbound')).toHaveLength(0);
    await s.ingest({ source: 'wiki', text: 'internal pricing' });
    await s.authorize({ tool: 'post_comment', args: { body: 'hi' } });
    expect(await flushed(observe, store, 'sensitive-outbound')).toHaveLength(1);
  });
});

describe('novel-tool and custom sequence rules', () => {
  it('alerts when an agent uses a tool it never used after its learning period', async () => {
    const config = withObserve(`  detectors:
    rules:
      - { id: novel-tool, type: novel-tool, learnEvents: 10, actions: [record] }
`);
    const { warden, store, observe } = await make(config);
    const s = warden.session({ agent: 'worker' });
    await s.authorize({ tool: 'rare_tool', args: {} }); // learning: not an alert
    for (let i = 0; i < 12; i++) await s.authorize({ tool: 'search', args: {} });
    await s.authorize({ tool: 'rare_tool', args: {} }); // known from the learning period
    expect(await flushed(observe, store, 'novel-tool')).toHaveLength(0);
    await s.authorize({ tool: 'write_file', args: { path: 'a' } });
    const [a] = await flushed(observe, store, 'novel-tool');
    expect(a).toMatchObject({ severity: 'medium', agent: 'worker', actions: ['record'] });
    expect((a!.evidence.knownTools as string[]).sort()).toEqual(['rare_tool', 'search']);
  });

  it('runs a policy-defined two-step sequence and its quarantine action', async () => {
    const config = withObserve(`  detectors:
    builtins: false
    rules:
      - id: secrets-then-mail
        type: sequence
        first: { tools: [read_customer] }
        then: { tools: [send_email] }
        windowSeconds: 300
        severity: critical
        actions: [record, quarantine]
`);
    const { warden, store, observe } = await make(config);
    const s = warden.session({ agent: 'support' });
    await s.authorize({ tool: 'read_customer', args: { id: 'c' } });
    await s.authorize({ tool: 'send_email', args: { to: 'x' } });
    const [a] = await flushed(observe, store, 'secrets-then-mail');
    expect(a).toMatchObject({ severity: 'critical', actions: ['record', 'quarantine'] });
    expect(observe.isQuarantined('support')).toBe(true);
    const d = await s.authorize({ tool: 'write_file', args: { path: 'a' } });
    expect(d.verdict).toBe('approve');
    expect(d.reasons[0]).toMatchObject({ control: 'quarantine', risk: 'ASI10' });
    expect((await store.getDoc('quarantine', 'support'))?.body).toMatchObject({
      agent: 'support',
      by: 'warden:detectors',
      alertId: a!.id,
    });
  });

  it('kills the agent when a rule says so: the next decision halts', async () => {
    const config = withObserve(`  detectors:
    builtins: false
    rules:
      - { id: runaway, type: burst, max: 3, windowSeconds: 10, match: { kinds: [tool.call] }, groupBy: none, actions: [record, kill], severity: critical }
`);
    const { warden, store, observe } = await make(config);
    const s = warden.session({ agent: 'worker' });
    for (let i = 0; i < 4; i++)
      expect((await s.authorize({ tool: 'search', args: {} })).verdict).toBe('allow');
    const d = await s.authorize({ tool: 'search', args: {} });
    expect(d.verdict).toBe('halt');
    expect(d.reasons[0]!.message).toMatch(/alert runaway/);
    expect(s.signal.aborted).toBe(true);
    await observe.flush();
    await warden.runtime.ledger.flush();
    const kills = await store.readLedger({ type: 'kill.engaged' });
    expect(kills[0]).toMatchObject({ agent: 'worker' });
    expect(kills[0]!.data).toMatchObject({ by: 'warden:detectors' });
  });
});

describe('bad input and bounds', () => {
  it('rejects rules with unbounded, missing or oversized windows with a clear error', () => {
    const rule = (w: string) =>
      withObserve(`  detectors:
    rules:
      - { id: r, type: burst, max: 5${w} }
`);
    for (const w of [
      ', windowSeconds: .inf',
      '',
      ', windowSeconds: 0',
      ', windowSeconds: 1000000000',
      ', windowSeconds: -5',
      ', windowSeconds: forever',
    ]) {
      const issues = configIssues(rule(w));
      const issue = issues.find((i) => i.path === 'observe.detectors.rules[0].windowSeconds');
      expect(issue, `window${w}`).toBeDefined();
      expect(issue!.message).toMatch(/finite number of seconds between 1 and 86400.*bounded/);
    }
  });

  it('rejects a burst larger than the per-window event cap, duplicate ids and unknown rule types', () => {
    const issues = configIssues(
      withObserve(`  detectors:
    maxEventsPerWindow: 100
    rules:
      - { id: r, type: burst, max: 500, windowSeconds: 10 }
      - { id: r, type: burst, max: 5, windowSeconds: 10 }
`),
    );
    const text = issues.map((i) => `${i.path}: ${i.message}`).join('\n');
    expect(text).toMatch(/rules\[0\]\.max: burst max 500 .* maxEventsPerWindow is 100/);
    expect(text).toMatch(/rules\[1\]\.id: duplicate rule id `r`/);
    const unknown = configIssues(
      withObserve(`  detectors:
    rules:
      - { id: z, type: telepathy }
`),
    );
    expect(unknown[0]).toMatchObject({ path: 'observe.detectors.rules[0].type' });
    expect(unknown[0]!.message).toMatch(/burst/);
  });

  it("keeps state bounded under a flood from one agent, and still sees another agent's burst", async () => {
    const config = withObserve(`  detectors:
    maxKeysPerRule: 64
    maxEventsPerWindow: 64
  alerts:
    maxPerMinute: 50
`);
    const { warden, store, observe, clock } = await make(config);
    // 3,000 sessions and 3,000 distinct users from one agent, with results full of values.
    for (let i = 0; i < 3_000; i++) {
      const s = warden.session({ agent: 'worker', user: `u${i}` });
      const call = { tool: 'search', args: { q: i }, callId: `c${i}` };
      await s.authorize(call);
      await s.record(call, { hits: Array.from({ length: 50 }, (_, k) => `doc-${i}-${k}`) });
      clock.advance(10);
    }
    await observe.flush();
    const stats = observe.detectorStats();
    for (const [rule, st] of Object.entries(stats.rules)) {
      expect(st.keys, rule).toBeLessThanOrEqual(64);
    }
    expect(stats.errors).toBe(0);
    const other = warden.session({ agent: 'commenter' });
    for (let i = 0; i < 31; i++) await other.authorize({ tool: 'post_comment', args: { body: 'x' } });
    const burst = await flushed(observe, store, 'burst');
    expect(burst.map((a) => a.agent)).toEqual(['commenter']);
  });

  it('deduplicates a repeating finding within the cooldown and rate-limits alert storms', async () => {
    const config = withObserve(`  detectors:
    builtins: false
    rules:
      - { id: each, type: burst, max: 1, windowSeconds: 60, per: session, actions: [record] }
  alerts:
    maxPerMinute: 5
`);
    const { warden, store, observe } = await make(config);
    const s = warden.session({ agent: 'worker' });
    for (let i = 0; i < 10; i++) await s.authorize({ tool: 'search', args: {} });
    expect(await flushed(observe, store, 'each')).toHaveLength(1);
    for (let i = 0; i < 20; i++) {
      const t = warden.session({ agent: 'worker' });
      await t.authorize({ tool: 'search', args: {} });
      await t.authorize({ tool: 'search', args: {} });
    }
    expect(await flushed(observe, store, 'each')).toHaveLength(5);
  });

  it('disables built-in rules by id', async () => {
    const config = withObserve(`  detectors:
    disable: [burst, unverified-target]
`);
    const { observe } = await make(config);
    expect(Object.keys(observe.detectorStats().rules).sort()).toEqual([
      'fingerprint',
      'novel-tool',
      'sensitive-outbound',
    ]);
  });

  it('loads the base policy with every built-in rule on', async () => {
    const { observe } = await make(OBSERVE_CONFIG);
    expect(Object.keys(observe.detectorStats().rules).sort()).toEqual([
      'burst',
      'fingerprint',
      'novel-tool',
      'sensitive-outbound',
      'unverified-target',
    ]);
  });
});
