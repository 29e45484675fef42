import type { Command } from 'commander';
import { wardenJsonSchema } from '../../config/json-schema.js';

/** `warden schema`: prints the JSON Schema of warden.yaml. */
export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description('print the JSON Schema of warden.yaml (for editors and CI)')
    .action(() => {
      process.stdout.write(JSON.stringify(wardenJsonSchema(), null, 2) + '\n');
    });
}
