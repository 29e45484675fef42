import { describe, expect, it } from 'vitest';
import { trustConfig, trustWardens } from './helpers.js';

const make = trustWardens();

describe('trust tiers and session taint', () => {
  it('labels content with its source tier, and a caller can only lower trust', async () => {
    const { warden } = await make();
    const s = warden.session({ agent: 'bot' });
    expect((await s.ingest({ source: 'user', text: 'hi' })).tier).toBe(1);
    expect((await s.ingest({ source: 'system', text: 'rules' })).tier).toBe(1);
    expect((await s.ingest({ source: 'wiki', text: 'doc' })).tier).toBe(2);
    expect((await s.ingest({ source: 'web', text: 'page' })).tier).toBe(3);
    expect((await s.ingest({ source: 'no-such-source', text: 'x' })).tier).toBe(3);
    expect((await s.ingest({ source: 'user', text: 'pasted', tier: 3 })).tier).toBe(3);
    expect((await s.ingest({ source: 'web', text: 'page', tier: 1 })).tier).toBe(3);
  });

  it("labels tool results with the tool's tier (authoritative 2, declared, default 3), lowered by the caller", async () => {
    const { warden } = await make();
    const s = warden.session({ agent: 'bot' });
    expect((await s.record({ tool: 'list_repos', args: {} }, ['r1'])).tier).toBe(2);
    expect((await s.record({ tool: 'wiki_search', args: {} }, 'doc')).tier).toBe(2);
    expect((await s.record({ tool: 'read_file', args: {} }, 'text')).tier).toBe(3);
    expect((await s.record({ tool: 'list_repos', args: {} }, ['r1'], { tier: 3 })).tier).toBe(3);
    expect((await s.record({ tool: 'unknown_tool', args: {} }, 'x')).verdict).toBe('deny');
    expect(s.state.taint).toBe(3);
  });

  it('tracks the lowest tier since the last tier-1 turn, and a user turn clears it', async () => {
    const { warden, trust } = await make();
    const s = warden.session({ agent: 'bot' });
    await s.ingest({ source: 'user', text: 'summarise' });
    expect(s.state.taint).toBe(1);
    await s.ingest({ source: 'wiki', text: 'internal doc' });
    expect(s.state.taint).toBe(2);
    await s.record({ tool: 'web_fetch', args: { url: 'https://x.example' } }, 'page');
    expect(s.state.taint).toBe(3);
    await s.ingest({ source: 'wiki', text: 'another doc' });
    expect(s.state.taint).toBe(3);
    expect(trust.taintOf(s.state).taintedBy).toMatchObject({ kind: 'result', name: 'web_fetch', tier: 3 });
    await s.ingest({ source: 'user', text: 'thanks, now do the next thing' });
    expect(s.state.taint).toBe(1);
  });

  it('keeps raises by other modules across a user turn', async () => {
    const { warden, trust } = await make();
    const s = warden.session({ agent: 'bot' });
    trust.raiseTaint(s.state, 3);
    expect((await s.authorize({ tool: 'deploy', args: { repoId: 'x' } })).reasons[0]?.control).toBe('taint');
    await s.ingest({ source: 'user', text: 'deploy repo 77' });
    expect(s.state.taint).toBe(3);
    expect((await s.authorize({ tool: 'deploy', args: { repoId: '77' } })).verdict).toBe('deny');
  });

  it('denies sensitive tools after tier-3 content, and lets reads and non-sensitive writes through', async () => {
    const { warden } = await make();
    const s = warden.session({ agent: 'bot' });
    await s.ingest({ source: 'user', text: 'deploy repo 77 after reading https://news.example' });
    expect((await s.authorize({ tool: 'deploy', args: { repoId: '77' } })).verdict).toBe('allow');
    await s.record({ tool: 'web_fetch', args: { url: 'https://news.example' } }, 'news of the day');
    const d = await s.authorize({ tool: 'deploy', args: { repoId: '77' } });
    expect(d.verdict).toBe('deny');
    expect(d.reasons[0]).toMatchObject({
      control: 'taint',
      domain: 2,
      risk: 'ASI01',
      evidence: { taint: 3, taintedBy: { name: 'web_fetch' } },
    });
    expect(d.escalation?.who).toEqual(['alice']);
    expect((await s.authorize({ tool: 'read_file', args: { path: 'a' } })).verdict).toBe('allow');
    expect((await s.authorize({ tool: 'write_note', args: { text: 'notes' } })).verdict).toBe('allow');
    // Tools with injected credentials are sensitive even when they only read.
    expect((await s.authorize({ tool: 'cloud_api', args: {} })).verdict).toBe('deny');
  });

  it('asks for approval instead when taint.tier3 is approve', async () => {
    const { warden } = await make(trustConfig({ trust: '  taint: { tier3: approve }\n' }));
    const s = warden.session({ agent: 'bot' });
    await s.ingest({ source: 'user', text: 'deploy 77' });
    await s.ingest({ source: 'email', text: 'hello' });
    const d = await s.authorize({ tool: 'deploy', args: { repoId: '77' } });
    expect(d.verdict).toBe('approve');
    expect(d.approvalId).toBeDefined();
  });

  it('lets tier-2 content inform reads but sends sensitive calls it precedes to a person', async () => {
    const { warden } = await make();
    const s = warden.session({ agent: 'bot' });
    await s.ingest({ source: 'user', text: 'deploy repo 77 if the wiki says it is ready' });
    await s.ingest({ source: 'wiki', text: 'repo 77 is ready' });
    expect((await s.authorize({ tool: 'read_file', args: { path: 'x' } })).verdict).toBe('allow');
    const d = await s.authorize({ tool: 'deploy', args: { repoId: '77' } });
    expect(d.verdict).toBe('approve');
    expect(d.reasons[0]).toMatchObject({ control: 'taint', evidence: { taint: 2 } });
  });

  it('allows sensitive calls under tier-2 taint when taint.tier2 is allow', async () => {
    const { warden } = await make(trustConfig({ trust: '  taint: { tier2: allow }\n' }));
    const s = warden.session({ agent: 'bot' });
    await s.ingest({ source: 'user', text: 'deploy repo 77' });
    await s.ingest({ source: 'wiki', text: 'repo 77 is ready' });
    expect((await s.authorize({ tool: 'deploy', args: { repoId: '77' } })).verdict).toBe('allow');
  });

  it('does not hand out credentials while tainted', async () => {
    const { warden } = await make();
    const s = warden.session({ agent: 'bot' });
    const issue = () =>
      warden.decide(s.state, {
        kind: 'credential.issue',
        actor: s.state.actor,
        credential: { name: 'github' },
      });
    expect((await issue()).verdict).toBe('allow');
    await s.ingest({ source: 'web', text: 'a page' });
    const d = await issue();
    expect(d.verdict).toBe('deny');
    expect(d.reasons[0]).toMatchObject({ control: 'taint', risk: 'ASI03' });
  });

  it('never lowers trust for refused content', async () => {
    const { warden } = await make();
    const s = warden.session({ agent: 'bot' });
    await s.record({ tool: 'not_declared', args: {} }, 'tier 3 by default');
    expect(s.state.taint).toBe(3);
  });
});
