import { describe, expect, it } from 'vitest';
import { identify, type IssuerRules } from '../../functions/domain/identity.ts';
import { identity } from '../../lib/topology.ts';

// Who a verified token names, from its claims alone: the rules the authorizer applies
// once the signature, issuer, audience and times have passed.

const rules = { factoryScope: identity.factoryScope, operatorGroup: identity.operatorGroup };
const claimNames = { groupsClaim: 'groups', buyerClaim: 'buyer_id', roomClaim: 'room_id' };
const platform: IssuerRules = { names: ['platform'], ...claimNames };
const c2m: IssuerRules = { names: ['c2m'], ...claimNames };
/** The local runtime's issuer plays both parts. */
const both: IssuerRules = { names: ['c2m', 'platform'], ...claimNames };
/** Cognito: groups in `cognito:groups`. */
const cognito: IssuerRules = { names: ['c2m'], groupsClaim: 'cognito:groups', buyerClaim: 'buyer_id', roomClaim: 'room_id' };

const principal = (role: string, id: string) => ({ kind: 'principal', principal: { role, id } });
const noRole = { kind: 'no-role', why: expect.any(String) };

describe('A platform token names a buyer or a live room by claim', () => {
  it('buyer_id names a buyer, room_id a live room; a token with both is the buyer', () => {
    expect(identify({ sub: 'u-1', buyer_id: 'buyer-7' }, platform, rules)).toEqual(principal('buyer', 'buyer-7'));
    expect(identify({ sub: 'u-2', room_id: 'room-3' }, platform, rules)).toEqual(principal('liveroom', 'room-3'));
    expect(identify({ buyer_id: 'buyer-7', room_id: 'room-3' }, platform, rules)).toEqual(principal('buyer', 'buyer-7'));
  });

  it('The issuer says which claims name whom: a buyer under another claim name is found there, and buyer_id is then ignored', () => {
    const custom: IssuerRules = { names: ['platform'], groupsClaim: 'groups', buyerClaim: 'custom:buyer', roomClaim: 'custom:room' };
    expect(identify({ 'custom:buyer': 'b-9' }, custom, rules)).toEqual(principal('buyer', 'b-9'));
    expect(identify({ 'custom:room': 'r-9' }, custom, rules)).toEqual(principal('liveroom', 'r-9'));
    expect(identify({ buyer_id: 'b-9' }, custom, rules)).toEqual(noRole);
  });

  it('An empty or non-string buyer claim names nobody: the room claim, if any, decides', () => {
    expect(identify({ buyer_id: '', room_id: 'room-3' }, platform, rules)).toEqual(principal('liveroom', 'room-3'));
    expect(identify({ buyer_id: 42, room_id: 'room-3' }, platform, rules)).toEqual(principal('liveroom', 'room-3'));
    expect(identify({ buyer_id: ['b-1'] }, platform, rules)).toEqual(noRole);
  });

  it('A platform-only issuer never yields an anchor, an operator or a factory, whatever its token says', () => {
    expect(identify({ sub: 'alice' }, platform, rules)).toEqual(noRole);
    expect(identify({ sub: 'alice', groups: ['operator'] }, platform, rules)).toEqual(noRole);
    expect(identify({ sub: 'fc_1', client_id: 'fc_1', scope: identity.factoryScope }, platform, rules)).toEqual(noRole);
  });
});

describe('A c2m token names a factory client, an operator or an anchor', () => {
  it('A client-credentials token (sub = client_id) holding the factory scope is that client, to be looked up', () => {
    expect(identify({ sub: 'fc_1', client_id: 'fc_1', scope: identity.factoryScope }, c2m, rules)).toEqual({ kind: 'factory-client', clientId: 'fc_1' });
    expect(identify({ sub: 'fc_1', client_id: 'fc_1', scope: `openid ${identity.factoryScope} other` }, c2m, rules)).toEqual({
      kind: 'factory-client',
      clientId: 'fc_1',
    });
  });

  it('A client-credentials token without the factory scope names no role, not an anchor called after the client', () => {
    expect(identify({ sub: 'fc_1', client_id: 'fc_1' }, c2m, rules)).toEqual(noRole);
    expect(identify({ sub: 'fc_1', client_id: 'fc_1', scope: '' }, c2m, rules)).toEqual(noRole);
    expect(identify({ sub: 'fc_1', client_id: 'fc_1', scope: 'openid profile' }, c2m, rules)).toEqual(noRole);
    // Scopes are whole words: neither a longer scope nor a prefix is the factory scope.
    expect(identify({ sub: 'fc_1', client_id: 'fc_1', scope: `${identity.factoryScope}-admin` }, c2m, rules)).toEqual(noRole);
    expect(identify({ sub: 'fc_1', client_id: 'fc_1', scope: 'c2m/fact' }, c2m, rules)).toEqual(noRole);
  });

  it("A user's token (sub is not the client) is an anchor named by sub, even when it carries the factory scope", () => {
    expect(identify({ sub: 'anchor-li' }, c2m, rules)).toEqual(principal('anchor', 'anchor-li'));
    expect(identify({ sub: 'anchor-li', client_id: 'c2m-console' }, c2m, rules)).toEqual(principal('anchor', 'anchor-li'));
    expect(identify({ sub: 'anchor-li', client_id: 'c2m-console', scope: identity.factoryScope }, c2m, rules)).toEqual(principal('anchor', 'anchor-li'));
  });

  it('A user in the operator group is an operator, whether groups is an array or a space- or comma-separated string; a similar group name is not', () => {
    expect(identify({ sub: 'ops-1', groups: ['staff', 'operator'] }, c2m, rules)).toEqual(principal('operator', 'ops-1'));
    expect(identify({ sub: 'ops-1', groups: 'staff operator' }, c2m, rules)).toEqual(principal('operator', 'ops-1'));
    expect(identify({ sub: 'ops-1', groups: 'staff,operator' }, c2m, rules)).toEqual(principal('operator', 'ops-1'));
    expect(identify({ sub: 'ops-1', groups: ['operators', 'not-operator'] }, c2m, rules)).toEqual(principal('anchor', 'ops-1'));
    expect(identify({ sub: 'ops-1', groups: 'operators' }, c2m, rules)).toEqual(principal('anchor', 'ops-1'));
    expect(identify({ sub: 'ops-1', groups: [] }, c2m, rules)).toEqual(principal('anchor', 'ops-1'));
  });

  it("Groups are read from the issuer's own claim: on Cognito, cognito:groups, and a plain groups claim there counts for nothing", () => {
    expect(identify({ sub: 'ops-1', 'cognito:groups': ['operator'] }, cognito, rules)).toEqual(principal('operator', 'ops-1'));
    expect(identify({ sub: 'ops-1', groups: ['operator'] }, cognito, rules)).toEqual(principal('anchor', 'ops-1'));
  });

  it('A c2m-only issuer ignores buyer_id and room_id: its user is an anchor, and without sub nobody', () => {
    expect(identify({ sub: 'anchor-li', buyer_id: 'buyer-7' }, c2m, rules)).toEqual(principal('anchor', 'anchor-li'));
    expect(identify({ sub: 'anchor-li', room_id: 'room-3' }, c2m, rules)).toEqual(principal('anchor', 'anchor-li'));
    expect(identify({ buyer_id: 'buyer-7' }, c2m, rules)).toEqual(noRole);
    expect(identify({ room_id: 'room-3' }, c2m, rules)).toEqual(noRole);
  });

  it('An issuer that plays both parts names a buyer by buyer_id before anything sub says', () => {
    expect(identify({ sub: 'buyer-7', buyer_id: 'buyer-7' }, both, rules)).toEqual(principal('buyer', 'buyer-7'));
    expect(identify({ sub: 'room-3', room_id: 'room-3' }, both, rules)).toEqual(principal('liveroom', 'room-3'));
    expect(identify({ sub: 'anchor-li' }, both, rules)).toEqual(principal('anchor', 'anchor-li'));
    expect(identify({ sub: 'fc_1', client_id: 'fc_1', scope: identity.factoryScope }, both, rules)).toEqual({ kind: 'factory-client', clientId: 'fc_1' });
  });

  it('A token naming nobody at all names no role', () => {
    expect(identify({}, both, rules)).toEqual(noRole);
    expect(identify({ sub: '' }, both, rules)).toEqual(noRole);
    expect(identify({ sub: 7 }, both, rules)).toEqual(noRole);
  });
});

describe('Ids c2m cannot use name no role', () => {
  const bad = ['has space', 'slash/ed', 'x'.repeat(65), 'ümlaut', 'semi;colon', 'new\nline'];

  it.each(bad)('%j as a buyer, a live room, an anchor or an operator is no role', (id) => {
    expect(identify({ buyer_id: id }, platform, rules)).toEqual(noRole);
    expect(identify({ room_id: id }, platform, rules)).toEqual(noRole);
    expect(identify({ sub: id }, c2m, rules)).toEqual(noRole);
    expect(identify({ sub: id, groups: ['operator'] }, c2m, rules)).toEqual(noRole);
  });

  it('A buyer claim with an unusable id does not fall through to the room or the subject', () => {
    expect(identify({ buyer_id: 'has space', room_id: 'room-3' }, platform, rules)).toEqual(noRole);
    expect(identify({ sub: 'anchor-li', buyer_id: 'has space' }, both, rules)).toEqual(noRole);
  });

  it('The longest usable id (64 characters of the allowed set) still names its principal', () => {
    const longest = `A-z_0.9:${'x'.repeat(56)}`;
    expect(longest).toHaveLength(64);
    expect(identify({ sub: longest }, c2m, rules)).toEqual(principal('anchor', longest));
    expect(identify({ buyer_id: longest }, platform, rules)).toEqual(principal('buyer', longest));
  });
});

describe("With the operator's own IdP, a user is an anchor only in the anchor group", () => {
  const own: IssuerRules = { ...c2m, anchorGroup: 'anchor' };
  it('a machine token that looks like a user (sub is not client_id, as Entra and Keycloak mint them) names no role', () => {
    expect(identify({ sub: 'service-principal-9', azp: 'app-9' }, own, rules)).toEqual(noRole);
  });
  it('a user in the anchor group is an anchor; in the operator group an operator, anchor group or not', () => {
    expect(identify({ sub: 'li', groups: ['anchor'] }, own, rules)).toEqual(principal('anchor', 'li'));
    expect(identify({ sub: 'ops', groups: ['operator'] }, own, rules)).toEqual(principal('operator', 'ops'));
  });
});
