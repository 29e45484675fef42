import { signedVotesSuite } from '../../actions/suites/signed-votes-suite.js';
import { postgresForTests } from './pg.js';

// The signed-vote suite of test/actions, on PostgreSQL.
const pg = postgresForTests('signed_votes');
signedVotesSuite('PostgreSQL', () => pg.makeStore());
