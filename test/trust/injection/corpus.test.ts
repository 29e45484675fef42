import { describe, expect, it } from 'vitest';

import { scanForInjection } from '../../../src/trust/injection/index.js';
import { HOLDOUT_ATTACKS, HOLDOUT_BENIGN } from './corpus-holdout.js';
import { ATTACKS, BENIGN } from './corpus.js';

function flaggedShare(texts: readonly string[]): { share: number; flagged: string[]; missed: string[] } {
  const flagged: string[] = [];
  const missed: string[] = [];
  for (const t of texts) (scanForInjection(t).flagged ? flagged : missed).push(t);
  return { share: flagged.length / texts.length, flagged, missed };
}

describe('hand-written corpus', () => {
  it('flags the attacks', () => {
    const { share, missed } = flaggedShare(ATTACKS);
    expect(share, `missed:\n${missed.join('\n')}`).toBeGreaterThanOrEqual(0.9);
  });

  it('leaves the benign near-misses alone', () => {
    const { flagged } = flaggedShare(BENIGN);
    expect(flagged, 'benign texts flagged').toEqual([]);
  });
});

describe('hold-out corpus (coarse bounds only)', () => {
  it('flags most attacks written in styles the rules were not shaped around', () => {
    const { share, missed } = flaggedShare(HOLDOUT_ATTACKS);
    expect(share, `missed:\n${missed.join('\n')}`).toBeGreaterThanOrEqual(0.75);
  });

  it('flags at most one benign text', () => {
    const { flagged } = flaggedShare(HOLDOUT_BENIGN);
    expect(flagged.length, `flagged:\n${flagged.join('\n')}`).toBeLessThanOrEqual(1);
  });
});
