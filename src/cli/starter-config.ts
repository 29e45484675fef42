/** The commented starter file `warden init` writes. Kept valid by a test. */
export const STARTER_CONFIG = `# warden.yaml: the policy Warden enforces for your agents.
# Validate with \`warden validate\`; editors complete it from \`warden schema\`
# (YAML language server: add the line below).
# yaml-language-server: $schema=./node_modules/agent-warden/schema/warden.schema.json
version: 1

# Every agent has an id, an accountable owner and a maturity phase:
#   intern    read-only: write and irreversible tools are denied
#   junior    every action that changes anything needs human approval
#   senior    pre-approved action classes run alone, the rest escalates
#   principal autonomy inside explicit caps
agents:
  - id: support-bot
    owner: alice@example.com
    description: Answers customer questions from the knowledge base.
    phase: intern

# Every tool the agents may call, with its consequence class:
#   read (no side effects), write (changes state), irreversible (cannot be undone).
# authoritative: its results are sources of truth for parameter verification.
# identifiers: arguments that must trace to the user or an authoritative result.
tools:
  - name: search_kb
    class: read
    authoritative: true
  - name: send_email
    class: write
    outbound: true
    identifiers: [to]

# Where content comes from and how far it is trusted:
#   1 system prompt and verified user, 2 internal with provenance, 3 external.
# \`system\` and \`user\` are tier 1 unless you say otherwise; unknown sources are tier 3.
sources:
  - name: kb
    tier: 2
  - name: web
    tier: 3

# Where the ledger and state live. Default: SQLite under .warden/.
# For several replicas, use PostgreSQL (or set WARDEN_DATABASE_URL):
# store:
#   url: postgres://warden@db.internal/warden
store:
  path: .warden/warden.db

ledger:
  # Extra patterns (regular expressions) redacted before anything is stored.
  redact: []
`;
