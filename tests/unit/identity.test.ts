import { describe, expect, it } from 'vitest';
import { identify, type IssuerRules } from '../../functions/domain/identity.ts';
import { identity } from '../../lib/topology.ts';

// Who a verified token names, from its claims alone: the rules the authorizer applies
// once the signature, issuer, audience and times have passed.

const rules = { factoryScope: identity.factoryScope, platformScope: identity.platformScope, operatorGroup: identity.operatorGroup };
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

  it('A platform-only issuer never yields an anchor, an operator, a factory or the platform principal, whatever its token says', () => {
    expect(identify({ sub: 'alice' }, platform, rules)).toEqual(noRole);
    expect(identify({ sub: 'alice', groups: ['operator'] }, platform, rules)).toEqual(noRole);
    expect(identify({ sub: 'fc_1', client_id: 'fc_1', scope: identity.factoryScope }, platform, rules)).toEqual(noRole);
    // The payment service's client lives at c2m's issuer: the live platform's own IdP cannot mint it.
    expect(identify({ sub: 'pay-svc', client_id: 'pay-svc', scope: identity.platformScope }, platform, rules)).toEqual(noRole);
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

  it('A client-credentials token with neither the factory nor the platform scope names no role, not an anchor called after the client', () => {
    expect(identify({ sub: 'fc_1', client_id: 'fc_1' }, c2m, rules)).toEqual(noRole);
    expect(identify({ sub: 'fc_1', client_id: 'fc_1', scope: '' }, c2m, rules)).toEqual(noRole);
    expect(identify({ sub: 'fc_1', client_id: 'fc_1', scope: 'openid profile' }, c2m, rules)).toEqual(noRole);
    // Scopes are whole words: neither a longer scope nor a prefix is the factory scope.
    expect(identify({ sub: 'fc_1', client_id: 'fc_1', scope: `${identity.factoryScope}-admin` }, c2m, rules)).toEqual(noRole);
    expect(identify({ sub: 'fc_1', client_id: 'fc_1', scope: 'c2m/fact' }, c2m, rules)).toEqual(noRole);
  });

  it("A user's token (sub is not the client) is an anchor named by sub, even when it carries the factory or the platform scope", () => {
    expect(identify({ sub: 'anchor-li' }, c2m, rules)).toEqual(principal('anchor', 'anchor-li'));
    expect(identify({ sub: 'anchor-li', client_id: 'c2m-console' }, c2m, rules)).toEqual(principal('anchor', 'anchor-li'));
    expect(identify({ sub: 'anchor-li', client_id: 'c2m-console', scope: identity.factoryScope }, c2m, rules)).toEqual(principal('anchor', 'anchor-li'));
    expect(identify({ sub: 'anchor-li', client_id: 'c2m-console', scope: identity.platformScope }, c2m, rules)).toEqual(principal('anchor', 'anchor-li'));
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

describe("A c2m client token holding the platform scope is the platform, named by its client id", () => {
  it('sub = client_id with the platform scope, alone or among others, is the platform, with no lookup', () => {
    expect(identify({ sub: 'pay-svc', client_id: 'pay-svc', scope: identity.platformScope }, c2m, rules)).toEqual(principal('platform', 'pay-svc'));
    expect(identify({ sub: 'pay-svc', client_id: 'pay-svc', scope: `openid ${identity.platformScope}` }, c2m, rules)).toEqual(principal('platform', 'pay-svc'));
    // Cognito's app client ids: 26 lowercase letters and digits.
    expect(identify({ sub: '1example23456789abcdefghij', client_id: '1example23456789abcdefghij', scope: identity.platformScope }, cognito, rules)).toEqual(
      principal('platform', '1example23456789abcdefghij'),
    );
    // The local runtime's issuer plays both parts and still knows the platform's client.
    expect(identify({ sub: 'pay-svc', client_id: 'pay-svc', scope: identity.platformScope }, both, rules)).toEqual(principal('platform', 'pay-svc'));
  });

  it('Scopes are whole words: a longer scope or a prefix of the platform scope is not it', () => {
    expect(identify({ sub: 'pay-svc', client_id: 'pay-svc', scope: `${identity.platformScope}-admin` }, c2m, rules)).toEqual(noRole);
    expect(identify({ sub: 'pay-svc', client_id: 'pay-svc', scope: 'c2m/plat' }, c2m, rules)).toEqual(noRole);
    expect(identify({ sub: 'pay-svc', client_id: 'pay-svc', scope: 'platform' }, c2m, rules)).toEqual(noRole);
  });

  it('A client token holding both the factory and the platform scope names no role: one client is one principal, not whichever is checked first', () => {
    expect(identify({ sub: 'fc_1', client_id: 'fc_1', scope: `${identity.factoryScope} ${identity.platformScope}` }, c2m, rules)).toEqual({
      kind: 'no-role',
      why: expect.stringMatching(/both/),
    });
    expect(identify({ sub: 'pay-svc', client_id: 'pay-svc', scope: `${identity.platformScope} openid ${identity.factoryScope}` }, both, rules)).toEqual(noRole);
  });

  it('A platform-scoped token whose client id c2m cannot use as an id names no role, and says why', () => {
    for (const id of ['has space', 'slash/ed', 'x'.repeat(65)]) {
      expect(identify({ sub: id, client_id: id, scope: identity.platformScope }, c2m, rules)).toEqual({
        kind: 'no-role',
        why: 'the token names a platform by an id c2m cannot use',
      });
    }
  });

  it("The platform scope makes no platform of a token whose sub is not its client: that is a user's token (an anchor), and without sub nobody", () => {
    expect(identify({ sub: 'pay-svc', client_id: 'other', scope: identity.platformScope }, c2m, rules)).toEqual(principal('anchor', 'pay-svc'));
    expect(identify({ client_id: 'pay-svc', scope: identity.platformScope }, c2m, rules)).toEqual(noRole);
  });

  it('The platform scope is the one the topology names, under the c2m resource server', () => {
    expect(identity.platformScope).toBe(`${identity.resourceServer}/platform`);
    expect(identity.platformScope).not.toBe(identity.factoryScope);
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
