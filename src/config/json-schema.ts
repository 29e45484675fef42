import { z } from 'zod';
import { wardenConfigSchema } from './schema.js';

/** The JSON Schema of `warden.yaml`, for editors (YAML language server) and other tools. */
export function wardenJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(wardenConfigSchema, { io: 'input', unrepresentable: 'any' });
  return {
    ...schema,
    $id: 'https://agent-warden.dev/schema/warden.schema.json',
    title: 'Warden configuration (warden.yaml)',
  };
}
