import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
const pol = 'forbid(principal, action == Action::"deploy", resource) when { context.args has env && context.args.env == "prod" && context.args has day && context.args.day == "fri" };';
for (let e = 0; e < 8; e++) {
  const id = 'set' + e;
  cedar.preparsePolicySet(id, { staticPolicies: { p0: pol } });
  const q = { principal: { type: 'Agent', id: 'bot' }, action: { type: 'Action', id: 'deploy' }, resource: { type: 'Tool', id: 'deploy' }, context: { args: { repoId: 'acme/web', env: 'prod', day: 'mon' }, phase: 'principal', taint: 1, now: 0, session: 's', class: 'read' }, entities: [], preparsedPolicySetId: id };
  for (let i = 0; i < 40_000; i++) cedar.statefulIsAuthorized(q as never);
  process.stderr.write(`engine ${e} ok\n`);
}
console.log('ok');
