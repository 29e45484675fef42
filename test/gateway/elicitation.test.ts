import { describe, expect, it } from 'vitest';
import {
  approvalMessage,
  clientSupportsFormElicitation,
  describeProvenance,
  readAnswer,
  renderValue,
} from '../../src/gateway/elicitation.js';

describe('approval elicitation', () => {
  it("shows facts first and the agent's explanation apart, labelled as unverified", () => {
    const text = approvalMessage({
      approvalId: 'apr_1',
      agent: 'worker',
      server: 'github',
      tool: 'merge_pr',
      args: [
        {
          name: 'repo',
          value: '"acme/api"',
          provenance: describeProvenance({
            provenance: 'authoritative',
            source: { kind: 'result', name: 'list_repos' },
          }),
        },
      ],
      reasons: ['needs approval [phase, ASI02]'],
      rationale: 'the tests passed',
      expiresAt: 0,
    });
    expect(text).toMatch(/Tool: merge_pr on server github/);
    expect(text).toMatch(
      /repo = "acme\/api" {2}\[from: an authoritative tool result \(result of list_repos\)\]/,
    );
    expect(text.indexOf('Why Warden asks')).toBeLessThan(text.indexOf("agent's own explanation"));
    expect(text).toMatch(/not verified by Warden/);
  });

  it('renders values on one line without invisible characters, and bounded', () => {
    expect(renderValue('a\u202eb\nc')).toBe('"a b\\nc"');
    expect(renderValue('x'.repeat(1000)).length).toBeLessThan(260);
    expect(describeProvenance({ provenance: 'unverified' })).toMatch(/NOWHERE/);
  });

  it('reads answers: only an explicit yes approves', () => {
    expect(readAnswer({ action: 'accept', content: { approve: true, note: 'ok' } })).toEqual({
      answer: 'approve',
      note: 'ok',
    });
    expect(readAnswer({ action: 'accept', content: { approve: 'yes' } })).toEqual({ answer: 'refuse' });
    expect(readAnswer({ action: 'accept' })).toEqual({ answer: 'refuse' });
    expect(readAnswer({ action: 'decline' })).toEqual({ answer: 'refuse' });
    expect(readAnswer({ action: 'cancel' }).answer).toBe('cancelled');
  });

  it('knows which clients can answer a form', () => {
    expect(clientSupportsFormElicitation({ elicitation: {} })).toBe(true);
    expect(clientSupportsFormElicitation({ elicitation: { form: {} } })).toBe(true);
    expect(clientSupportsFormElicitation({ elicitation: { url: {} } })).toBe(false);
    expect(clientSupportsFormElicitation({})).toBe(false);
  });
});
