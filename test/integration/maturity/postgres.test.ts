import { phasesSuite } from '../../maturity/suites/phases-suite.js';
import { promotionSuite } from '../../maturity/suites/promotion-suite.js';
import { postgresForTests } from '../actions/pg.js';

// The same phase and promotion suites as test/maturity, on PostgreSQL.
const pg = postgresForTests('maturity');
phasesSuite('PostgreSQL', () => pg.makeStore());
promotionSuite('PostgreSQL', () => pg.makeStore());
