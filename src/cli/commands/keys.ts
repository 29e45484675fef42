import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { generateAgentKeyPair } from '../../observe/messages/keys.js';
import { CliExit } from '../context.js';
import { EXIT } from '../exit-codes.js';

/**
 * `warden keys generate NAME [--approver] [--out FILE]`: an Ed25519 identity, for an agent's signed
 * agent-to-agent messages, or (`--approver`) for a person's signed approval votes.
 */
export function registerKeys(program: Command): void {
  const keys = program
    .command('keys')
    .description('Ed25519 identities: agents sign agent-to-agent messages, approvers sign approval votes');
  keys
    .command('generate')
    .description(
      'generate a key pair for an agent (or, with --approver, an approver); the public key goes in warden.yaml, the private key stays with its owner',
    )
    .argument('<name>', 'agent id, or approver name with --approver')
    .option(
      '--approver',
      'a key for an approver: prints the entry for approvals.approvers; sign votes with `warden approvals approve ID --as NAME --key FILE`',
    )
    .option(
      '--out <file>',
      'write the private key (PKCS#8 PEM) to this file with mode 0600 instead of printing it',
    )
    .option('--force', 'overwrite an existing --out file')
    .option('--json', 'print JSON')
    .action((agent: string, opts: { approver?: boolean; out?: string; force?: boolean; json?: boolean }) => {
      const pair = generateAgentKeyPair();
      let written: string | undefined;
      if (opts.out !== undefined) {
        written = resolve(opts.out);
        mkdirSync(dirname(written), { recursive: true, mode: 0o700 });
        try {
          writeFileSync(written, pair.privateKeyPem, { mode: 0o600, flag: opts.force ? 'w' : 'wx' });
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          throw new CliExit(
            EXIT.usage,
            code === 'EEXIST'
              ? `${written} exists; pass --force to overwrite it`
              : `cannot write ${written}: ${String(error)}`,
          );
        }
        // The mode given to writeFileSync is filtered by the umask and ignored for an existing file.
        chmodSync(written, 0o600);
      }
      if (opts.json) {
        process.stdout.write(
          JSON.stringify({
            ...(opts.approver ? { approver: agent } : { agent }),
            publicKey: pair.publicKey,
            fingerprint: pair.fingerprint,
            ...(written ? { privateKeyFile: written } : { privateKeyPem: pair.privateKeyPem }),
          }) + '\n',
        );
        return;
      }
      const out = opts.approver
        ? [
            `# ${agent}: add under approvals.approvers in warden.yaml (if ${agent} is listed already, add only publicKey, keeping the roles)`,
            `- { name: ${JSON.stringify(agent)}, roles: [], publicKey: ${pair.publicKey} }`,
            `# fingerprint ${pair.fingerprint}; from now on ${agent} votes with --key: \`warden approvals approve ID --as ${agent} --key ${written ?? 'FILE'}\``,
          ]
        : [
            `# ${agent}: add to its entry under agents: in warden.yaml`,
            `publicKey: ${pair.publicKey}`,
            `# fingerprint ${pair.fingerprint}`,
          ];
      const owner = opts.approver ? agent : 'the agent';
      if (written) out.push(`# private key written to ${written} (mode 0600); give it to ${owner} only`);
      else {
        process.stderr.write(
          `warden: the private key is printed below; store it where only ${owner} can read it (or use --out FILE)\n`,
        );
        out.push(pair.privateKeyPem.trimEnd());
      }
      process.stdout.write(out.join('\n') + '\n');
    });
}
