import { Principal } from '#shared/principal.ts';

/**
 * Who a verified access token names, from its claims alone (the signature,
 * issuer, audience and times are checked before this runs). Pure: the
 * authorizer does the I/O (JWKS, the factory client record).
 *
 *  - a platform issuer's token naming a buyer or a live room by claim → that buyer / room;
 *  - a c2m issuer's client-credentials token (sub = client_id) holding the factory
 *    scope → whichever factory that client is registered to (looked up, revocable);
 *  - the same holding the platform scope → the platform, named by its client id (its
 *    one client is made once, with the stack or in the operator's IdP, and is in no
 *    registry, so there is nothing to look up);
 *  - a client token holding both scopes, or neither → no role: one client is one principal,
 *    and a client set up with both would otherwise act as whichever this code checks first;
 *  - a c2m issuer's user token → an operator when in the operator group, else an anchor,
 *    named by `sub`;
 *  - anything else → no role (403: a valid token that may call nothing).
 */
export interface IssuerRules {
  readonly names: readonly ('c2m' | 'platform')[];
  readonly groupsClaim: string;
  /** When set, only users in this group are anchors (operators aside); others name no role. */
  readonly anchorGroup?: string | undefined;
  readonly buyerClaim: string;
  readonly roomClaim: string;
}

export interface RoleRules {
  readonly factoryScope: string;
  readonly platformScope: string;
  readonly operatorGroup: string;
}

export type Identified =
  | { readonly kind: 'principal'; readonly principal: Principal }
  | { readonly kind: 'factory-client'; readonly clientId: string }
  | { readonly kind: 'no-role'; readonly why: string };

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

const groupsOf = (v: unknown): string[] => {
  if (Array.isArray(v)) return v.filter((g): g is string => typeof g === 'string');
  if (typeof v === 'string') return v.split(/[\s,]+/).filter(Boolean);
  return [];
};

const named = (role: Principal['role'], id: string | undefined): Identified => {
  const parsed = Principal.safeParse({ role, id });
  return parsed.success
    ? { kind: 'principal', principal: parsed.data }
    : { kind: 'no-role', why: `the token names a ${role} by an id c2m cannot use` };
};

export const identify = (claims: Readonly<Record<string, unknown>>, issuer: IssuerRules, rules: RoleRules): Identified => {
  if (issuer.names.includes('platform')) {
    const buyer = str(claims[issuer.buyerClaim]);
    if (buyer !== undefined) return named('buyer', buyer);
    const room = str(claims[issuer.roomClaim]);
    if (room !== undefined) return named('liveroom', room);
  }
  if (issuer.names.includes('c2m')) {
    const sub = str(claims.sub);
    const clientId = str(claims.client_id);
    const scopes = new Set((str(claims.scope) ?? '').split(' ').filter(Boolean));
    if (clientId !== undefined && sub === clientId) {
      const factory = scopes.has(rules.factoryScope);
      const platform = scopes.has(rules.platformScope);
      if (factory && platform) return { kind: 'no-role', why: 'a client token holding both the factory and the platform scope' };
      if (factory) return { kind: 'factory-client', clientId };
      if (platform) return named('platform', clientId);
      return { kind: 'no-role', why: 'a client token holding neither the factory nor the platform scope' };
    }
    if (sub !== undefined) {
      const groups = groupsOf(claims[issuer.groupsClaim]);
      if (groups.includes(rules.operatorGroup)) return named('operator', sub);
      if (issuer.anchorGroup !== undefined && !groups.includes(issuer.anchorGroup)) {
        return { kind: 'no-role', why: `a user outside the ${issuer.anchorGroup} group` };
      }
      return named('anchor', sub);
    }
  }
  return { kind: 'no-role', why: 'the token names no principal c2m knows' };
};
