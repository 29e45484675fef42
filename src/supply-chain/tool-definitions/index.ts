/**
 * MCP tool definitions as an attack surface (domain 5, ASI04): pinning against rug pulls, scanning for
 * poisoning, and detecting shadowing across servers. Pure functions for the MCP gateway.
 */
export { comparePins, pinToolDefinitions, toolDefinitionDigest } from './pin.js';
export type { ChangedPin, PinComparison } from './pin.js';
export { FLAG_THRESHOLD, SEVERITY_WEIGHT, scanToolDefinition, scoreFindings } from './scan.js';
export { detectShadowing } from './shadowing.js';
export type { ShadowingIssue } from './shadowing.js';
export { findingsToReasons, TOOL_DEFINITION_CONTROL } from './reasons.js';
export type {
  Finding,
  FindingKind,
  KnownTool,
  ScanContext,
  ScanResult,
  ServerTool,
  Severity,
  ToolDefinition,
} from './types.js';
