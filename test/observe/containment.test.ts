import { afterEach, describe, expect, it } from 'vitest';
import type { ContainmentReport } from '../../src/observe/containment/containment.js';
import { generateAgentKeyPair } from '../../src/observe/messages/keys.js';
import { signMessage } from '../../src/observe/messages/envelope.js';
import type { Store } from '../../src/store/store.js';
import type { Warden } from '../../src/warden.js';
import { until } from '../helpers/wait.js';
import { FakeClock, observeWarden } from './helpers.js';

const keys = {
  a: generateAgentKeyPair(),
  b: generateAgentKeyPair(),
  c: generateAgentKeyPair(),
  d: generateAgentKeyPair(),
};

const CONFIG = `version: 1
agents:
  - { id: compromised, owner: ops, phase: senior, publicKey: ${keys.a.publicKey} }
  - { id: consumer, owner: ops, phase: senior, publicKey: ${keys.b.publicKey} }
  - { id: downstream, owner: ops, phase: senior, publicKey: ${keys.c.publicKey} }
  - { id: bystander, owner: ops, phase: senior, publicKey: ${keys.d.publicKey} }
tools:
  - { name: search, class: read }
  - { name: write_file, class: write }
maturity:
  senior:
    preApproved:
      - { tool: '*' }
      - { memory: '*' }
observe:
  edges:
    - { from: compromised, to: consumer }
    - { from: consumer, to: downstream }
    - { from: bystander, to: downstream }
  detectors: { builtins: false }
  containment: { windowSeconds: 600, maxDepth: 2 }
`;

let open: { warden: Warden; store: Store }[] = [];
afterEach(async () => {
  for (const { warden, store } of open) {
    await warden.close().catch(() => undefined);
    await store.close();
  }
  open = [];
});

async function make() {
  const clock = new FakeClock();
  const w = await observeWarden(CONFIG, { clock });
  open.push(w);
  return { ...w, clock };
}

async function containmentRecords(warden: Warden, store: Store): Promise<ContainmentReport[]> {
  await warden.runtime.ledger.flush();
  return (await store.readLedger({ type: 'containment' })).map((r) => r.data as ContainmentReport);
}

describe('cascade containment', () => {
  it('contains the consumers of a quarantined agent, two hops deep, and shows the blast path', async () => {
    const { warden, store, observe, clock } = await make();
    const consumer = warden.session({ agent: 'consumer', task: 'triage' });
    const downstream = warden.session({ agent: 'downstream' });
    const bystander = warden.session({ agent: 'bystander' });
    const m1 = await consumer.message(
      signMessage(keys.a.privateKeyPem, {
        from: 'compromised',
        to: 'consumer',
        payload: 'do X',
        ts: clock.now(),
      }),
    );
    expect(m1.tier).toBe(2);
    clock.advance(1_000);
    const m2 = await downstream.message(
      signMessage(keys.b.privateKeyPem, {
        from: 'consumer',
        to: 'downstream',
        payload: 'X done',
        ts: clock.now(),
      }),
    );
    await downstream.message(
      signMessage(keys.d.privateKeyPem, {
        from: 'bystander',
        to: 'downstream',
        payload: 'hi',
        ts: clock.now(),
      }),
    );
    expect((await consumer.authorize({ tool: 'write_file', args: { path: 'a' } })).verdict).toBe('allow');

    await observe.quarantine('compromised', { reason: 'prompt injection confirmed', by: 'sec-oncall' });
    await observe.flush();

    // Consumers' sessions are tainted; their consequential actions need approval; reads still run.
    expect(consumer.state.taint).toBe(3);
    expect(downstream.state.taint).toBe(3);
    expect(bystander.state.taint).toBe(1);
    const held = await consumer.authorize({ tool: 'write_file', args: { path: 'b' } });
    expect(held.verdict).toBe('approve');
    expect(held.reasons[0]).toMatchObject({ control: 'containment', risk: 'ASI08' });
    expect((await consumer.authorize({ tool: 'search', args: {} })).verdict).toBe('allow');
    expect((await bystander.authorize({ tool: 'write_file', args: { path: 'c' } })).verdict).toBe('allow');

    const [report] = await containmentRecords(warden, store);
    expect(report).toMatchObject({
      compromised: 'compromised',
      trigger: 'quarantine',
      reason: 'prompt injection confirmed',
    });
    expect(report!.consumers.map((c) => [c.agent, c.depth, c.from])).toEqual([
      ['consumer', 1, 'compromised'],
      ['downstream', 2, 'consumer'],
    ]);
    expect(report!.consumers[0]!.events).toEqual([m1.eventId]);
    expect(report!.consumers[1]!.events).toEqual([m2.eventId]);
    expect(report!.consumers[0]!.taintRaised).toEqual([consumer.id]);
    const ledger = await store.readLedger({ type: 'quarantine.engaged' });
    expect(ledger[0]!.data).toMatchObject({ by: 'sec-oncall' });
  });

  it('contains readers of memory the agent wrote when its kill switch engages', async () => {
    const { warden, store, clock } = await make();
    const a = warden.session({ agent: 'compromised' });
    const reader = warden.session({ agent: 'downstream' });
    const own = warden.session({ agent: 'compromised' });
    await a.memoryWrite({ namespace: 'team', key: 'plan', value: 'exfiltrate' });
    clock.advance(500);
    const read = await reader.memoryRead({ namespace: 'team', key: 'plan' });
    await own.memoryRead({ namespace: 'team', key: 'plan' });
    await warden.kill('agent', 'compromised', 'credential theft', 'sec-oncall');
    // Containment follows the kill switch in the background: wait for its record rather than for a time.
    let report: ContainmentReport | undefined;
    await until(async () => {
      [report] = await containmentRecords(warden, store);
      return report !== undefined;
    }, 'the containment record of the kill');
    expect(report).toMatchObject({ compromised: 'compromised', trigger: 'kill' });
    expect(report!.consumers).toHaveLength(1);
    expect(report!.consumers[0]).toMatchObject({ agent: 'downstream', depth: 1, events: [read.eventId] });
    expect(reader.state.taint).toBe(3);
    expect((await reader.authorize({ tool: 'write_file', args: { path: 'x' } })).verdict).toBe('approve');
    // After the kill, reading what the killed agent wrote taints the reader at once.
    const late = warden.session({ agent: 'bystander' });
    await late.memoryRead({ namespace: 'team', key: 'plan' });
    expect(late.state.taint).toBe(3);
  });

  it('ignores consumption older than the window and writes no record when nobody consumed', async () => {
    const { warden, store, observe, clock } = await make();
    const consumer = warden.session({ agent: 'consumer' });
    await consumer.message(
      signMessage(keys.a.privateKeyPem, {
        from: 'compromised',
        to: 'consumer',
        payload: 'old',
        ts: clock.now(),
      }),
    );
    clock.advance(601_000);
    await observe.quarantine('compromised', { reason: 'late finding', by: 'sec' });
    await observe.flush();
    expect(consumer.state.taint).toBe(2);
    expect(await containmentRecords(warden, store)).toHaveLength(0);
    expect((await consumer.authorize({ tool: 'write_file', args: { path: 'x' } })).verdict).toBe('allow');
  });
});
