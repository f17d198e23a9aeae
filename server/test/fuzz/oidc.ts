import type { Random } from './random.js';

// Mutated requests for the single sign-on routes, `GET /auth/oidc/start` and
// `GET /auth/oidc/callback`: the method, the state (a started one, unknown, huge, encoded,
// repeated), the state cookie (matching, other, missing, garbage), the code (a used one, garbage,
// huge, missing) and odd extra parameters (`error=` from the provider, a foreign `iss`).

export interface OidcFixture {
  /** A state Cabinet handed out (its sign-in may be used up by an earlier case). */
  state: string;
  /** A code the provider issued (already exchanged once). */
  code: string;
  issuer: string;
}

export interface OidcCase {
  labels: string[];
  method: string;
  path: string;
  headers: Record<string, string>;
}

export function oidcCase(rng: Random, fx: OidcFixture): OidcCase {
  const labels: string[] = [];
  const method = rng.weighted([
    [8, 'GET'],
    [1, 'HEAD'],
    [1, 'POST'],
    [1, 'DELETE'],
  ] as const);
  labels.push(`method:${method}`);
  if (rng.chance(0.15)) {
    labels.push('start');
    return { labels, method, path: `/auth/oidc/start?${rng.hex(rng.int(0, 40))}`, headers: {} };
  }
  const stateKind = rng.weighted([
    [3, 'started'],
    [2, 'unknown'],
    [1, 'missing'],
    [1, 'huge'],
    [1, 'encoded'],
    [1, 'twice'],
  ] as const);
  labels.push(`state:${stateKind}`);
  const params: string[] = [];
  const state =
    stateKind === 'started'
      ? fx.state
      : stateKind === 'huge'
        ? 'S'.repeat(rng.int(201, 6000))
        : stateKind === 'encoded'
          ? rng.pick(['%00', '%ff%fe', '..%2f', '%E2%80%AE', '"><'])
          : rng.hex(43);
  if (stateKind !== 'missing') params.push(`state=${state}`);
  if (stateKind === 'twice') params.push(`state=${fx.state}`);
  const codeKind = rng.weighted([
    [3, 'used'],
    [2, 'garbage'],
    [1, 'huge'],
    [1, 'missing'],
  ] as const);
  labels.push(`code:${codeKind}`);
  if (codeKind === 'used') params.push(`code=${encodeURIComponent(fx.code)}`);
  else if (codeKind === 'garbage') params.push(`code=${rng.hex(rng.int(1, 80))}`);
  else if (codeKind === 'huge') params.push(`code=${'c'.repeat(rng.int(1000, 6000))}`);
  if (rng.chance(0.3)) {
    labels.push('iss');
    params.push(`iss=${encodeURIComponent(rng.pick([fx.issuer, 'https://evil.example', '']))}`);
  }
  if (rng.chance(0.15)) {
    labels.push('error');
    params.push('error=access_denied&error_description=%3Cscript%3E');
  }
  const cookieKind = rng.weighted([
    [3, 'matching'],
    [2, 'missing'],
    [1, 'other'],
    [1, 'garbage'],
  ] as const);
  labels.push(`cookie:${cookieKind}`);
  const cookieValue =
    cookieKind === 'matching'
      ? state
      : cookieKind === 'other'
        ? rng.hex(43)
        : rng.pick(['', '=', ';;', '%zz', 'x'.repeat(4000)]);
  const headers: Record<string, string> =
    cookieKind === 'missing' ? {} : { cookie: `cabinet_oidc_state=${cookieValue}` };
  return { labels, method, path: `/auth/oidc/callback?${params.join('&')}`, headers };
}
