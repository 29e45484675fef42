import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { wardenJsonSchema } from '../../src/config/json-schema.js';

describe('published JSON Schema', () => {
  it('schema/warden.schema.json matches the schema the code validates with (run `npm run build` to refresh)', () => {
    const committed = JSON.parse(readFileSync('schema/warden.schema.json', 'utf8')) as unknown;
    expect(committed).toEqual(wardenJsonSchema());
  });
});
