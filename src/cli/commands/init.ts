import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { CliExit } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { STARTER_CONFIG } from '../starter-config.js';

/** `warden init`: writes a commented starter warden.yaml. */
export function registerInit(program: Command): void {
  program
    .command('init')
    .description('write a commented starter warden.yaml')
    .argument('[file]', 'where to write it', 'warden.yaml')
    .option('--force', 'overwrite an existing file')
    .action((file: string, opts: { force?: boolean }) => {
      const path = resolve(file);
      if (existsSync(path) && !opts.force) {
        throw new CliExit(EXIT.usage, `${path} exists; pass --force to overwrite it`);
      }
      writeFileSync(path, STARTER_CONFIG);
      process.stdout.write(`wrote ${path}\nnext: edit it, then run \`warden validate ${file}\`\n`);
    });
}
