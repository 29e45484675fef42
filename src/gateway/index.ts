/**
 * `agent-warden/gateway`: Warden in front of any MCP server, for any MCP client. Proxies at the JSON-RPC
 * message level over stdio or streamable HTTP; tool calls go through the decision pipeline, tool
 * definitions are pinned and scanned, and upstream credentials never reach the model.
 *
 * ```ts
 * import { createWarden } from 'agent-warden';
 * import { Gateway } from 'agent-warden/gateway';
 * const warden = await createWarden({ configPath: 'warden.yaml' });
 * const gateway = await Gateway.create({ warden, agent: 'researcher', servers: [{ name: 'fs', command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '.'], env: {}, headers: {} }] });
 * await gateway.serveStdio();
 * ```
 */
export { Gateway, resolveAgent, type GatewayOptions } from './gateway.js';
export { GatewayConnection, type ConnectionOptions, type RouterSettings } from './router.js';
export { listenHttp, type HttpListener, type HttpListenerOptions } from './http-listener.js';
export { Upstream, type UpstreamSpec, type UpstreamCall, type UpstreamEvents } from './upstream.js';
export {
  stdioUpstream,
  httpUpstream,
  stdioClientSide,
  type StdioUpstreamOptions,
  type HttpUpstreamOptions,
  type Transport,
} from './transports.js';
export {
  extension,
  toolDefinitionStage,
  attachGatewaySlot,
  GATEWAY_SLOT,
  type GatewaySlot,
} from './extension.js';
export {
  reviewDefinitions,
  isBlocked,
  statusReasons,
  type DefinitionStatus,
  type DefinitionPolicy,
} from './definitions.js';
export {
  approvePin,
  forgetPin,
  loadPins,
  pinId,
  PIN_COLLECTION,
  PIN_CHANNEL,
  type ToolPin,
  type ApprovedDefinition,
  type SeenDefinition,
  type ApproveOutcome,
} from './pins.js';
export { SecretStripper, resolveValue, resolveValues, SECRET_COLLECTION } from './secrets.js';
export { assignNames, NAMESPACE_SEPARATOR } from './namespace.js';
export { hiddenBecause, type HiddenBecause } from './tool-filter.js';
export {
  holdForApproval,
  type ApprovalsApi,
  type ApprovalRequestView,
  type HoldOutcome,
} from './approval-hold.js';
export { clientSupportsFormElicitation, approvalMessage, APPROVAL_SCHEMA } from './elicitation.js';
export type { GatewaySection, GatewayServerConfig, SecretValue } from '../config/sections/gateway.js';
