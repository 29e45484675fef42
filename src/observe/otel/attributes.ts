/**
 * Attribute names Warden puts on spans. The GenAI and MCP names follow the OpenTelemetry semantic conventions
 * (still in development upstream, so they are spelled out here rather than imported from the incubating
 * entry point, whose exports may move); the `warden.*` names are Warden's own.
 */
export const GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
export const GEN_AI_OPERATION_EXECUTE_TOOL = 'execute_tool';
export const GEN_AI_TOOL_NAME = 'gen_ai.tool.name';
export const GEN_AI_TOOL_CALL_ID = 'gen_ai.tool.call.id';
export const GEN_AI_TOOL_TYPE = 'gen_ai.tool.type';
export const GEN_AI_AGENT_ID = 'gen_ai.agent.id';
export const GEN_AI_AGENT_NAME = 'gen_ai.agent.name';
export const GEN_AI_CONVERSATION_ID = 'gen_ai.conversation.id';
export const MCP_METHOD_NAME = 'mcp.method.name';
export const MCP_SESSION_ID = 'mcp.session.id';
export const ERROR_TYPE = 'error.type';

export const WARDEN_DECISION = 'warden.decision';
export const WARDEN_EVENT_ID = 'warden.event.id';
export const WARDEN_EVENT_KIND = 'warden.event.kind';
export const WARDEN_REASONS = 'warden.reasons';
export const WARDEN_CONTROLS = 'warden.controls';
export const WARDEN_RISKS = 'warden.risks';
export const WARDEN_DOMAINS = 'warden.domains';
export const WARDEN_TIER = 'warden.tier';
export const WARDEN_TAINT = 'warden.session.taint';
export const WARDEN_APPROVAL_ID = 'warden.approval.id';
export const WARDEN_TOOL_CLASS = 'warden.tool.class';
export const WARDEN_MCP_SERVER = 'warden.mcp.server';
export const WARDEN_USER = 'warden.user';
export const WARDEN_TASK = 'warden.task';
export const WARDEN_TENANT = 'warden.tenant';
export const WARDEN_CONTENT_SOURCE = 'warden.content.source';
export const WARDEN_MESSAGE_FROM = 'warden.message.from';
export const WARDEN_MESSAGE_TO = 'warden.message.to';
export const WARDEN_MEMORY_NAMESPACE = 'warden.memory.namespace';
export const WARDEN_ALERT_ID = 'warden.alert.id';
export const WARDEN_ALERT_RULE = 'warden.alert.rule';
export const WARDEN_ALERT_SEVERITY = 'warden.alert.severity';
export const WARDEN_ALERT_MESSAGE = 'warden.alert.message';
