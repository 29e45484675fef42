/**
 * agent-warden: a security framework and runtime for AI agents.
 *
 * The main entry holds what in-process users need: `createWarden`, sessions, the config loader and the
 * shared types. Node-only or heavy parts (PostgreSQL, the MCP gateway, OpenTelemetry, the digital twin)
 * are subpath exports.
 */
export { createWarden, Warden, type WardenOptions } from './warden.js';
export {
  Session,
  describeDecision,
  type WrappableTool,
  type WrappedOutcome,
  type WrapOptions,
} from './session.js';
export {
  loadConfigFile,
  parseConfig,
  validateConfig,
  formatConfigError,
  type LoadedConfig,
} from './config/load.js';
export { wardenJsonSchema } from './config/json-schema.js';
export { Policy } from './config/policy.js';
export type {
  WardenConfig,
  WardenConfigInput,
  AgentConfig,
  ToolConfig,
  SourceConfig,
  Phase,
  ToolClass,
} from './config/schema.js';
export type * from './core/types.js';
export { WardenError, ConfigError, StoreError, type WardenErrorCode } from './core/errors.js';
export { canonicalJson, digest } from './core/canonical.js';
export { reason, deny, needApproval, halt, type StageOutcome } from './core/decision.js';
export { STAGE_ORDER, type Stage, type StageContext } from './pipeline/stage.js';
export type { Extension, Runtime, Clock, ApprovalBroker } from './pipeline/runtime.js';
export { SessionState } from './pipeline/session-state.js';
export { Redactor, REDACTED } from './observe/redact.js';
export type { KillSwitch, KillScope } from './observe/kill-switch.js';
export {
  signMessage,
  generateAgentKeyPair,
  publicKeyFingerprint,
  type MessageEnvelope,
  type AgentKeyPair,
} from './observe/messages/index.js';
export { OBSERVE_SERVICE, type ObserveService } from './observe/service.js';
export type { Alert, AlertInput, Severity } from './observe/alerts/alert.js';
export type { Store, LedgerEntry, LedgerRecord, LedgerQuery, StoredDoc } from './store/store.js';
export { openStore } from './store/open-store.js';
export { verifyLedger, verifyStoreLedger } from './store/verify-chain.js';
export type { TrustService, ValueProvenance, ArgumentReport, TaintReport } from './trust/service.js';
export {
  Approvals,
  type ApprovalView,
  type ApprovalFilter,
  type VoteOptions,
} from './actions/approvals/approvals.js';
export {
  signVote,
  verifyVote,
  voteStatement,
  type VoteFields,
  type VoteSignature,
  type VoteDecision,
  type SignedBy,
} from './actions/approvals/signed-votes.js';
export type { ApprovalRequest, ApprovalStatus, ApprovalVote } from './actions/approvals/digest.js';
export type { ActionsService } from './actions/extension.js';
export { grantToCedar } from './actions/grants/cedar.js';
export type { MaturityService } from './maturity/extension.js';
export type {
  EvidenceCheck,
  EvidenceContext,
  EvidenceResult,
  PromotionResult,
  PromoteOptions,
  PromotionStatement,
} from './maturity/promotion.js';
export {
  signPromotion,
  verifyPromotion,
  promotionStatement,
  promotionEvidenceDigest,
  type PromotionFields,
  type PromotionSignature,
} from './maturity/signoff.js';
export type { LastPromotion } from './maturity/explain.js';
