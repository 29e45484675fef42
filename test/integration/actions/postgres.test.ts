import { approvalsSuite } from '../../actions/suites/approvals-suite.js';
import { gatesSuite } from '../../actions/suites/gates-suite.js';
import { postgresForTests } from './pg.js';

// The same gate and approval suites as test/actions, on PostgreSQL (LISTEN/NOTIFY between replicas).
const pg = postgresForTests('actions');
gatesSuite('PostgreSQL', () => pg.makeStore());
approvalsSuite('PostgreSQL', () => pg.makeStore());
