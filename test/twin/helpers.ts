import { deny, halt, needApproval, reason } from '../../src/core/decision.js';
import type { Extension, Runtime } from '../../src/pipeline/runtime.js';
import type { StageContext } from '../../src/pipeline/stage.js';
import { parseScenario, type LoadedScenario } from '../../src/twin/scenario-schema.js';

/** Parses scenario YAML with an id, anchored in the test directory. */
export function scenario(yaml: string): LoadedScenario {
  return parseScenario(yaml);
}

/** A minimal inline config: one senior agent and a few tools of each class. */
export const CONFIG = `config:
  version: 1
  agents:
    - { id: bot, owner: alice, phase: senior }
  tools:
    - { name: read_doc, class: read }
    - { name: write_doc, class: write }
    - { name: deploy, class: irreversible }
    - { name: send, class: write, outbound: true }
  # A Senior that may do anything alone: these tests exercise the twin, not the phase gate.
  maturity:
    senior:
      preApproved: [{ tool: "*" }]
`;

/** An extension with one stage that refuses calls to the named tools, as a stand-in control. */
export function refusing(
  tools: Record<string, 'deny' | 'approve' | 'halt'>,
  seen?: { now: number[]; events: StageContext['event'][] },
): () => Extension[] {
  return () => [
    {
      name: 'test-control',
      setup: () => [
        {
          name: 'test-control',
          order: 450,
          evaluate(ctx) {
            seen?.now.push(ctx.now);
            seen?.events.push(ctx.event);
            if (ctx.event.kind !== 'tool.call') return undefined;
            const what = tools[ctx.event.call.tool];
            const r = reason('test-control', 3, 'ASI02', `test control refuses ${ctx.event.call.tool}`);
            if (what === 'deny') return deny(r);
            if (what === 'approve') return needApproval(r);
            if (what === 'halt') return halt(r);
            return undefined;
          },
        },
      ],
    },
  ];
}

/** An extension that raises an alert doc (the observe module's contract) when a tool is called. */
export function alerting(tool: string): () => Extension[] {
  return () => {
    let runtime: Runtime;
    return [
      {
        name: 'test-alerts',
        setup(rt) {
          runtime = rt;
          return [];
        },
        onDecision(ctx) {
          if (ctx.event.kind !== 'tool.call' || ctx.event.call.tool !== tool) return;
          const id = `al-${ctx.eventId}`;
          void runtime.store.putDoc('alerts', id, {
            id,
            rule: 'test-rule',
            severity: 'high',
            agent: ctx.event.actor.agent,
            ts: ctx.now,
            message: 'seen',
            evidence: { events: [] },
            actions: ['record'],
            status: 'open',
          });
        },
      },
    ];
  };
}
