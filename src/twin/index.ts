/**
 * `agent-warden/twin`: the digital twin. Scripted agents run against simulated tools under the real
 * Warden pipeline; a run reports what was allowed, denied, held and halted, and the blast radius against
 * the scenario's caps. See docs/twin.md.
 */
export {
  loadScenarioFile,
  parseScenario,
  validateScenario,
  formatScenarioError,
  parseDuration,
  ScenarioError,
  SCENARIO_SUFFIX,
  type Scenario,
  type LoadedScenario,
  type ScenarioIssue,
  type ScriptStep,
  type LeafStep,
  type RepeatStep,
  type StepExpectation,
  type AlertExpectation,
  type Caps,
  type WorldInput,
  type SimulateEntry,
} from './scenario-schema.js';
export {
  runScenario,
  runScenarioPair,
  planScenario,
  checkExpectation,
  checkAlerts,
  type PlannedStep,
  type Highlight,
  type RunMode,
  type RunOptions,
  type RunProgress,
  type PairOptions,
  type ScenarioRun,
  type ScenarioReport,
  type StepTrace,
  type Stop,
  type AlertRecord,
  type ExpectationResult,
} from './runner.js';
export {
  blastRadius,
  checkCaps,
  describeDamage,
  formatBytes,
  CAP_NAMES,
  CAP_LABELS,
  type BlastRadius,
  type CapCheck,
  type CapName,
} from './blast-radius.js';
export { World, type Change, type WorldSnapshot } from './world.js';
export {
  simulateCall,
  urlsIn,
  EFFECTS,
  EFFECT_ARGS,
  type EffectName,
  type EffectBinding,
  type EffectOutcome,
} from './simulated-tools.js';
export {
  formatTable,
  formatJson,
  formatMarkdown,
  formatDemo,
  demoLines,
  summarise,
  groupStops,
  type TwinSummary,
  type DemoLine,
} from './report.js';
export { findScenarioFiles } from './files.js';
export {
  recordRuns,
  runsFor,
  toRecord,
  TWIN_RUNS_COLLECTION,
  TWIN_RUN_RECORD,
  type TwinRunRecord,
} from './record.js';
