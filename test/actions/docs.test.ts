import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { actionsWarnings } from '../../src/actions/lint.js';
import { loadConfigFile } from '../../src/config/load.js';
import { grantSchema } from '../../src/config/sections/actions.js';
import * as warden from '../../src/index.js';
import { maturityWarnings } from '../../src/maturity/lint.js';
import { expectedOutput, runTsExample } from '../helpers/docs-example.js';

const DOC = readFileSync(new URL('../../docs/actions.md', import.meta.url), 'utf8');

function blocks(lang: string): string[] {
  const out: string[] = [];
  const re = new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g');
  for (let m = re.exec(DOC); m; m = re.exec(DOC)) out.push(m[1] as string);
  return out;
}

/** Objects as the page shows them: single quotes, a space after commas, spaces inside brackets. */
function asShown(a: unknown): string {
  return (
    JSON.stringify(a)
      ?.replace(/"/g, "'")
      .replace(/,/g, ', ')
      .replace(/\[(.*)\]/, '[ $1 ]') ?? String(a)
  );
}

const runExample = (code: string, replacements: Record<string, string>) =>
  runTsExample(code, replacements, asShown);

describe('docs/actions.md', () => {
  it('the complete example validates, and the grant snippets parse', () => {
    const [full, snippet] = blocks('yaml');
    const dir = mkdtempSync(join(tmpdir(), 'warden-docs-actions-'));
    writeFileSync(join(dir, 'warden.yaml'), full!);
    const loaded = loadConfigFile(join(dir, 'warden.yaml'));
    expect(actionsWarnings(loaded.config, loaded.baseDir)).toEqual([
      expect.stringMatching(/researcher\) declares no `grants:`/),
      expect.stringMatching(/approvers without a publicKey \(alice, bob, carol\)/),
    ]);
    expect(maturityWarnings(loaded.config)).toEqual([]);
    const grants = (parse(snippet!) as { grants: unknown }).grants;
    expect(z.array(grantSchema).parse(grants)).toHaveLength(7);
  });

  it('the quickstart prints what the page says it prints', async () => {
    const [full] = blocks('yaml');
    const [quickstart] = blocks('ts');
    const dir = mkdtempSync(join(tmpdir(), 'warden-docs-actions-'));
    writeFileSync(join(dir, 'warden.yaml'), full!);
    const printed = await runExample(quickstart!, {
      "'warden.yaml'": JSON.stringify(join(dir, 'warden.yaml')),
    });
    expect(printed).toEqual(expectedOutput(quickstart!));
    // The request it made shows each argument's provenance (the trust module runs by default).
    const store = await warden.openStore({ path: join(dir, '.warden/warden.db') });
    const [req] = await store.listDocs<warden.ApprovalRequest>('approvals');
    await store.close();
    expect(req?.body.provenance?.repoId).toMatchObject({
      provenance: 'tier1',
      source: { kind: 'ingest', name: 'user' },
    });
    expect(req?.body.rationale).toBe('release 1.4 is tagged');
  });
});
