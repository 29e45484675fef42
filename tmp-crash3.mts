import { decisionBench } from './bench/actions.bench.ts';
const [g, style, cedar] = [Number(process.argv[2]), process.argv[3] as 'exact' | 'glob', process.argv[4] === 'cedar'];
const r = await decisionBench(g, style, cedar);
console.log('ok', r.map((x) => x.opsPerSec).join(' '));
