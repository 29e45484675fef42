import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectedOutput, runTsExample, tsExampleBetween } from '../helpers/docs-example.js';

const DOC = readFileSync(new URL('../../docs/actions.md', import.meta.url), 'utf8');

describe('docs/actions.md, signed promotion sign-offs', () => {
  it('the example prints what the page says it prints', async () => {
    const code = tsExampleBetween(DOC, '**Signed sign-offs.**', '**Automatic demotion.**');
    const db = join(mkdtempSync(join(tmpdir(), 'warden-docs-signoff-')), 'warden.db');
    const printed = await runTsExample(code, { "'.warden/signed-promotion.db'": JSON.stringify(db) });
    expect(printed).toEqual(expectedOutput(code));
    expect(printed).toHaveLength(3);
  });

  it('shows the statement lines the code builds', () => {
    const section = DOC.slice(DOC.indexOf('**Signed sign-offs.**'), DOC.indexOf('**Automatic demotion.**'));
    const labels = /```\n(warden phase promotion v1\n[\s\S]*?)```/
      .exec(section)?.[1]
      ?.trim()
      .split('\n')
      .map((l) => l.split(':')[0]);
    expect(labels).toEqual([
      'warden phase promotion v1',
      'agent',
      'from',
      'to',
      'by',
      'evidence',
      'note',
      'signed-at',
    ]);
  });
});
