import { SpanKind, SpanStatusCode, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { Decision } from '../../core/types.js';
import type { StageContext } from '../../pipeline/stage.js';
import type { Alert } from '../alerts/alert.js';
import * as A from './attributes.js';

/** How to export Warden's spans. */
export interface DecisionTracerOptions {
  /** Full OTLP/HTTP traces URL (ending in /v1/traces). */
  url: string;
  headers?: Record<string, string>;
  serviceName?: string;
  serviceVersion?: string;
  timeoutMs?: number;
  maxQueueSize?: number;
  scheduledDelayMs?: number;
  /** Redacts reason messages before they leave the process. */
  redact?: (text: string) => string;
  /** Replaces the OTLP exporter (tests, custom pipelines). */
  exporter?: SpanExporter;
}

/** Tool spans left open between a call and its result; the oldest is ended when more are open. */
const MAX_OPEN_SPANS = 10_000;
/** An open tool span whose result never came is ended after this long. */
const OPEN_SPAN_TTL_MS = 10 * 60_000;

/**
 * Turns Warden decisions into OpenTelemetry spans with the GenAI conventions and exports them over OTLP/HTTP
 * (JSON). A tool call's span opens at the `tool.call` decision and closes at its `tool.result` (matched by call
 * id), so its duration is the tool's; every other event is a span of its own. Uses a private tracer provider:
 * it never replaces the application's global one.
 */
export class DecisionTracer {
  private readonly provider: BasicTracerProvider;
  private readonly tracer: Tracer;
  private readonly open = new Map<string, { span: Span; ts: number }>();
  private readonly redact: (text: string) => string;

  constructor(o: DecisionTracerOptions) {
    const exporter =
      o.exporter ??
      new OTLPTraceExporter({ url: o.url, headers: o.headers ?? {}, timeoutMillis: o.timeoutMs ?? 5_000 });
    this.provider = new BasicTracerProvider({
      resource: resourceFromAttributes({
        [ATTR_SERVICE_NAME]: o.serviceName ?? 'warden',
        'service.version': o.serviceVersion ?? '0.0.0',
      }),
      spanProcessors: [
        new BatchSpanProcessor(exporter, {
          maxQueueSize: o.maxQueueSize ?? 4_096,
          maxExportBatchSize: Math.min(512, o.maxQueueSize ?? 4_096),
          scheduledDelayMillis: o.scheduledDelayMs ?? 1_000,
          exportTimeoutMillis: o.timeoutMs ?? 5_000,
        }),
      ],
    });
    this.tracer = this.provider.getTracer('agent-warden', o.serviceVersion);
    this.redact = o.redact ?? ((t) => t);
  }

  /** Records one decision. Synchronous and cheap: attributes go into a span the batch processor exports later. */
  recordDecision(ctx: StageContext, decision: Decision): void {
    const e = ctx.event;
    if (e.kind === 'tool.result') {
      const key = e.call.callId === undefined ? undefined : `${e.actor.session}\u0000${e.call.callId}`;
      const pending = key === undefined ? undefined : this.open.get(key);
      if (pending && key !== undefined) {
        this.open.delete(key);
        pending.span.addEvent('warden.result', this.decisionAttributes(ctx, decision), ctx.now);
        if (decision.verdict !== 'allow') this.markRefused(pending.span, decision);
        if (e.isError === true) pending.span.setAttribute(A.ERROR_TYPE, 'tool_error');
        pending.span.end(ctx.now);
        return;
      }
    }
    const span = this.tracer.startSpan(this.spanName(ctx), {
      kind: SpanKind.INTERNAL,
      startTime: ctx.now,
      attributes: this.baseAttributes(ctx),
    });
    span.setAttributes(this.decisionAttributes(ctx, decision));
    span.addEvent('warden.decision', { [A.WARDEN_DECISION]: decision.verdict }, ctx.now);
    if (decision.verdict !== 'allow' && decision.verdict !== 'approve') this.markRefused(span, decision);
    if (e.kind === 'tool.call' && decision.verdict === 'allow' && e.call.callId !== undefined) {
      this.keepOpen(`${e.actor.session}\u0000${e.call.callId}`, span, ctx.now);
      return;
    }
    span.end(ctx.now);
  }

  /** Records an alert as a span of its own. */
  recordAlert(alert: Alert): void {
    const span = this.tracer.startSpan(`warden.alert ${alert.rule}`, {
      kind: SpanKind.INTERNAL,
      startTime: alert.ts,
      attributes: {
        [A.WARDEN_ALERT_ID]: alert.id,
        [A.WARDEN_ALERT_RULE]: alert.rule,
        [A.WARDEN_ALERT_SEVERITY]: alert.severity,
        [A.WARDEN_ALERT_MESSAGE]: this.redact(alert.message),
        [A.GEN_AI_AGENT_ID]: alert.agent,
        ...(alert.session ? { [A.GEN_AI_CONVERSATION_ID]: alert.session } : {}),
      },
    });
    span.end(alert.ts);
  }

  /** Exports everything recorded so far. */
  async forceFlush(): Promise<void> {
    await this.provider.forceFlush();
  }

  /** Ends open spans, exports and stops. */
  async shutdown(): Promise<void> {
    for (const { span } of this.open.values()) {
      span.setAttribute('warden.result', 'missing');
      span.end();
    }
    this.open.clear();
    await this.provider.shutdown();
  }

  private keepOpen(key: string, span: Span, now: number): void {
    if (this.open.size >= MAX_OPEN_SPANS) {
      // The oldest open span, and any that outlived the TTL, are ended without a result.
      for (const [k, v] of this.open) {
        if (this.open.size < MAX_OPEN_SPANS && now - v.ts < OPEN_SPAN_TTL_MS) break;
        v.span.setAttribute('warden.result', 'missing');
        v.span.end(now);
        this.open.delete(k);
      }
    }
    this.open.set(key, { span, ts: now });
  }

  private spanName(ctx: StageContext): string {
    const e = ctx.event;
    if (e.kind === 'tool.call' || e.kind === 'tool.result')
      return `${A.GEN_AI_OPERATION_EXECUTE_TOOL} ${e.call.tool}`;
    return `warden.${e.kind}`;
  }

  private baseAttributes(ctx: StageContext): Attributes {
    const e = ctx.event;
    const a: Attributes = {
      [A.GEN_AI_AGENT_ID]: e.actor.agent,
      [A.GEN_AI_AGENT_NAME]: e.actor.agent,
      [A.GEN_AI_CONVERSATION_ID]: e.actor.session,
      [A.WARDEN_EVENT_KIND]: e.kind,
    };
    if (e.actor.user !== undefined) a[A.WARDEN_USER] = e.actor.user;
    if (e.actor.task !== undefined) a[A.WARDEN_TASK] = e.actor.task;
    if (e.actor.tenant !== undefined) a[A.WARDEN_TENANT] = e.actor.tenant;
    switch (e.kind) {
      case 'tool.call':
      case 'tool.result':
        a[A.GEN_AI_OPERATION_NAME] = A.GEN_AI_OPERATION_EXECUTE_TOOL;
        a[A.GEN_AI_TOOL_NAME] = e.call.tool;
        a[A.GEN_AI_TOOL_TYPE] = e.call.server === undefined ? 'function' : 'extension';
        if (e.call.callId !== undefined) a[A.GEN_AI_TOOL_CALL_ID] = e.call.callId;
        if (ctx.tool) a[A.WARDEN_TOOL_CLASS] = ctx.tool.class;
        if (e.call.server !== undefined) {
          // Through the MCP gateway: the call is an MCP tools/call, and the Warden session is the MCP session.
          a[A.MCP_METHOD_NAME] = 'tools/call';
          a[A.MCP_SESSION_ID] = e.actor.session;
          a[A.WARDEN_MCP_SERVER] = e.call.server;
        }
        break;
      case 'ingest':
        a[A.WARDEN_CONTENT_SOURCE] = e.content.source;
        break;
      case 'message':
        a[A.WARDEN_MESSAGE_FROM] = e.message.from;
        a[A.WARDEN_MESSAGE_TO] = e.message.to;
        break;
      case 'memory.write':
      case 'memory.read':
        a[A.WARDEN_MEMORY_NAMESPACE] = e.memory.namespace;
        break;
      default:
        break;
    }
    return a;
  }

  private decisionAttributes(ctx: StageContext, d: Decision): Attributes {
    const a: Attributes = {
      [A.WARDEN_DECISION]: d.verdict,
      [A.WARDEN_EVENT_ID]: d.eventId,
      [A.WARDEN_TAINT]: ctx.session.taint,
    };
    if (d.reasons.length > 0) {
      a[A.WARDEN_REASONS] = d.reasons.map((r) => this.redact(r.message));
      a[A.WARDEN_CONTROLS] = d.reasons.map((r) => r.control);
      a[A.WARDEN_RISKS] = [...new Set(d.reasons.map((r) => r.risk))];
      a[A.WARDEN_DOMAINS] = [...new Set(d.reasons.map((r) => r.domain))];
    }
    if (d.tier !== undefined) a[A.WARDEN_TIER] = d.tier;
    if (d.approvalId !== undefined) a[A.WARDEN_APPROVAL_ID] = d.approvalId;
    return a;
  }

  private markRefused(span: Span, d: Decision): void {
    span.setAttribute(A.ERROR_TYPE, `warden.${d.verdict}`);
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: d.reasons[0]?.message ? this.redact(d.reasons[0].message) : d.verdict,
    });
  }
}
