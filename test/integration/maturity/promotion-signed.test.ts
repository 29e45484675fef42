import { promotionSignedSuite } from '../../maturity/suites/promotion-signed-suite.js';
import { postgresForTests } from '../actions/pg.js';

// The signed sign-off suite of test/maturity, on PostgreSQL.
const pg = postgresForTests('maturity_signed');
promotionSignedSuite('PostgreSQL', () => pg.makeStore());
