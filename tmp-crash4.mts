import { decisionBench } from './bench/actions.bench.ts';
for (const cedar of [false, true]) for (const [g, s] of [[10, 'exact'], [1000, 'exact'], [1000, 'glob']] as const) {
  process.stderr.write(`start ${g} ${s} ${cedar}\n`);
  const r = await decisionBench(g, s, cedar);
  process.stderr.write(`done ${r.map((x) => x.opsPerSec).join(' ')}\n`);
}
console.log('ok');
