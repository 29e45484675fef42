import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectedOutput, runTsExample, tsExampleBetween } from '../helpers/docs-example.js';

const DOC = readFileSync(new URL('../../docs/actions.md', import.meta.url), 'utf8');

describe('docs/actions.md, signed votes', () => {
  it('the approval-UI example prints what the page says it prints', async () => {
    const code = tsExampleBetween(DOC, '### Signed votes', '### CLI and API');
    const db = join(mkdtempSync(join(tmpdir(), 'warden-docs-signed-')), 'warden.db');
    const printed = await runTsExample(code, { "'.warden/signed-votes.db'": JSON.stringify(db) });
    expect(printed).toEqual(expectedOutput(code));
    expect(printed).toHaveLength(4);
  });
});
