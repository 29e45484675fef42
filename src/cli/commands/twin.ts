import { Option, type Command } from 'commander';
import { findScenarioFiles } from '../../twin/files.js';
import { recordRuns, toRecord } from '../../twin/record.js';
import { formatJson, formatMarkdown, formatTable } from '../../twin/report.js';
import { planScenario, runScenarioPair, type RunProgress, type ScenarioReport } from '../../twin/runner.js';
import {
  formatScenarioError,
  loadScenarioFile,
  ScenarioError,
  type LoadedScenario,
} from '../../twin/scenario-schema.js';
import { CliExit, loadConfigOrExit, openConfiguredStore, toCliExit, type ConfigOption } from '../context.js';
import { EXIT } from '../exit-codes.js';

interface RunOpts {
  controls: 'on' | 'off';
  baseline?: boolean;
  json?: boolean;
  markdown?: boolean;
  verbose?: boolean;
  record?: boolean;
}

/** Loads every scenario or ends the command with every problem listed (exit 2). */
export function loadScenariosOrExit(paths: readonly string[]): LoadedScenario[] {
  const files = findScenarioFiles(paths);
  if (files.length === 0)
    throw new CliExit(
      EXIT.usage,
      'no scenario files found (give *.scenario.yaml files or a directory holding them)',
    );
  const loaded: LoadedScenario[] = [];
  const problems: string[] = [];
  for (const f of files) {
    try {
      const l = loadScenarioFile(f);
      // Expanding repeats validates each templated step: do it now, so no scenario runs before all are known good.
      planScenario(l.scenario, l.file);
      loaded.push(l);
    } catch (error) {
      if (error instanceof ScenarioError) problems.push(formatScenarioError(error));
      else throw toCliExit(error);
    }
  }
  if (problems.length > 0) throw new CliExit(EXIT.usage, problems.join('\n'));
  return loaded;
}

/** Shows progress on stderr: a rewritten line on a terminal, a plain line per scenario otherwise. */
export class Progress {
  private readonly tty: boolean;
  private lastDraw = 0;

  constructor(
    private readonly total: number,
    private readonly stream: Pick<NodeJS.WriteStream, 'write' | 'isTTY'> = process.stderr,
    /** Also print a plain line per scenario when the stream is not a terminal. */
    private readonly plain = true,
  ) {
    this.tty = stream.isTTY;
  }

  step(n: number, p: RunProgress): void {
    if (!this.tty) return;
    const now = Date.now();
    if (now - this.lastDraw < 50 && p.step !== p.total) return;
    this.lastDraw = now;
    const mode = p.mode === 'warden' ? 'with Warden' : 'without Warden';
    this.stream.write(`\r\x1b[K[${n}/${this.total}] ${p.scenario} (${mode}) step ${p.step}/${p.total}`);
  }

  done(n: number, report: ScenarioReport): void {
    const ms = Math.round((report.warden?.durationMs ?? 0) + (report.baseline?.durationMs ?? 0));
    const line = `[${n}/${this.total}] ${report.id}: ${report.passed ? 'passed' : 'FAILED'} (${ms} ms)`;
    if (this.tty) this.stream.write(n === this.total ? '\r\x1b[K' : `\r\x1b[K${line}`);
    else if (this.plain) this.stream.write(`twin: ${line}\n`);
  }
}

/** Runs scenarios one after the other, with a progress display. */
export async function runAll(
  loaded: readonly LoadedScenario[],
  opts: { controls: 'on' | 'off'; baseline?: boolean; progress?: 'full' | 'tty' | 'none' },
): Promise<ScenarioReport[]> {
  const mode = opts.progress ?? 'full';
  const progress = mode === 'none' ? undefined : new Progress(loaded.length, process.stderr, mode === 'full');
  const reports: ScenarioReport[] = [];
  for (const [i, l] of loaded.entries()) {
    const report = await runScenarioPair(l, {
      controls: opts.controls,
      ...(opts.baseline === undefined ? {} : { baseline: opts.baseline }),
      ...(progress
        ? {
            onProgress: (p: RunProgress) => {
              progress.step(i + 1, p);
            },
          }
        : {}),
    });
    progress?.done(i + 1, report);
    reports.push(report);
  }
  return reports;
}

/** `warden twin run|validate`: digital-twin runs of scenario files. */
export function registerTwin(program: Command): void {
  // Usage errors throw (and end with exit 2 in main) instead of commander exiting with 1 on its own.
  const twin = program
    .command('twin')
    .description('digital twin: run scripted agents on simulated tools under the real pipeline')
    .exitOverride();

  twin
    .command('run')
    .description(
      'run scenarios; exits 1 when a cap is exceeded or an expectation fails, 2 for an invalid scenario',
    )
    .argument('<scenario...>', '*.scenario.yaml files, or directories holding them')
    .addOption(
      new Option('--controls <mode>', 'on: under Warden; off: the same script with every call let through')
        .choices(['on', 'off'])
        .default('on'),
    )
    .option('--baseline', 'also run every scenario with controls off and show both blast radii')
    .option('--no-baseline', 'skip the controls-off runs that scenarios ask for')
    .option('--json', 'print the report as JSON')
    .option('--markdown', 'print the report as Markdown (for a pull-request comment)')
    .option('-v, --verbose', 'list every decision and warning')
    .option(
      '--record',
      'keep the results as evidence in the store of --config (collection twin_runs and the ledger)',
    )
    .action(async (paths: string[], opts: RunOpts, cmd: Command) => {
      if (opts.json && opts.markdown) throw new CliExit(EXIT.usage, 'choose one of --json and --markdown');
      if (opts.record && opts.controls === 'off')
        throw new CliExit(
          EXIT.usage,
          '--record keeps runs with controls on only: they are the evidence about a policy',
        );
      // Open the evidence store first: a wrong --config should fail before minutes of runs, not after.
      const store = opts.record
        ? await openConfiguredStore(loadConfigOrExit(cmd.optsWithGlobals<ConfigOption>()))
        : undefined;
      try {
        const loaded = loadScenariosOrExit(paths);
        const reports = await runAll(loaded, {
          controls: opts.controls,
          ...(opts.baseline === undefined ? {} : { baseline: opts.baseline }),
        });
        if (store) {
          const at = Date.now();
          await recordRuns(
            store,
            reports.map((r, i) => toRecord(r, loaded[i]?.scenario.config.agents.map((a) => a.id) ?? [], at)),
          ).catch((error: unknown) => {
            throw toCliExit(error);
          });
        }
        const text = opts.json
          ? formatJson(reports)
          : opts.markdown
            ? formatMarkdown(reports)
            : formatTable(reports, { verbose: opts.verbose === true });
        process.stdout.write(text);
        if (store) process.stderr.write(`twin: recorded ${reports.length} run(s) as evidence in the store\n`);
        if (reports.some((r) => !r.passed)) throw new CliExit(EXIT.failed);
      } finally {
        await store?.close();
      }
    });

  twin
    .command('validate')
    .description('check scenario files without running them; exits 2 with every problem listed')
    .argument('<scenario...>', '*.scenario.yaml files, or directories holding them')
    .action((paths: string[]) => {
      const loaded = loadScenariosOrExit(paths);
      for (const l of loaded)
        process.stdout.write(
          `${l.file ?? l.scenario.id} is valid: ${l.scenario.script.length} step(s), config with ${l.scenario.config.agents.length} agent(s)\n`,
        );
    });
}
