// Reads vitest's JSON report, checks that the suites CI must run did run (none silently skipped),
// and prints the closing "N passed, N failed" line.
import { readFileSync } from 'node:fs';

const file = process.argv[2];
// vitest's own exit status, when CI passes it: non-zero with no failed test means an error outside any test.
const vitestStatus = Number(process.argv[3] ?? 0);
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (error) {
  console.log(`could not read the test report ${file}: ${error.message}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

// Suites that must run in CI: a file path fragment and a description for the message.
const REQUIRED = [{ match: 'test/integration/store/postgres', what: 'PostgreSQL store suite' }];

let problems = 0;
for (const req of REQUIRED) {
  const files = report.testResults.filter((r) => r.name.includes(req.match));
  const tests = files.flatMap((f) => f.assertionResults);
  const passed = tests.filter((t) => t.status === 'passed').length;
  const skipped = tests.filter(
    (t) => t.status === 'skipped' || t.status === 'pending' || t.status === 'todo',
  ).length;
  if (files.length === 0 || passed === 0 || skipped > 0) {
    console.log(
      `REQUIRED SUITE DID NOT RUN: ${req.what} (${files.length} files, ${passed} passed, ${skipped} skipped)`,
    );
    problems++;
  }
}

const passed = report.numPassedTests;
// A file that failed to load has no failed assertions; count it once.
const brokenFiles = report.testResults.filter(
  (r) => r.status === 'failed' && !r.assertionResults.some((t) => t.status === 'failed'),
);
for (const f of brokenFiles)
  console.log(`TEST FILE FAILED TO RUN: ${f.name}: ${(f.message ?? '').split('\n')[0]}`);
let failed = report.numFailedTests + problems + brokenFiles.length;
if (vitestStatus !== 0 && failed === 0) {
  console.log(
    `VITEST EXITED WITH STATUS ${vitestStatus} with no failed test: an error outside any test (unhandled rejection, worker crash); see the output above`,
  );
  failed = 1;
}
const skipped = report.numPendingTests + (report.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
