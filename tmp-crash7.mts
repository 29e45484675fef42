import { decisionBench } from './bench/actions.bench.ts';
const cedar = process.argv[2] === 'cedar';
for (let k = 0; k < 2; k++) for (const [g, s] of [[10, 'exact'], [1000, 'exact'], [1000, 'glob']] as const) {
  process.stderr.write(`start ${g} ${s} ${cedar}\n`);
  await decisionBench(g, s, cedar);
}
console.log('ok');
