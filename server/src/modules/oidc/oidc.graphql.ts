import { builder } from '../../graphql/builder.js';

interface AuthConfigShape {
  passwordLogin: boolean;
  oidc: { name: string } | null;
}

const OidcProvider = builder.objectRef<{ name: string }>('OidcProvider').implement({
  description: 'The single sign-on provider (OpenID Connect) this server trusts.',
  fields: (t) => ({
    name: t.exposeString('name', {
      description:
        'Its display name (OIDC_NAME, else the issuer’s host name): "Sign in with <name>".',
    }),
  }),
});

const AuthConfig = builder.objectRef<AuthConfigShape>('AuthConfig').implement({
  description: 'What the sign-in page offers. Public: asked before anyone signs in.',
  fields: (t) => ({
    passwordLogin: t.exposeBoolean('passwordLogin', {
      description:
        'False with PASSWORD_LOGIN=off: `login`, `register` and `resetPassword` answer ' +
        'FORBIDDEN, and single sign-on is the only way in.',
    }),
    oidc: t.field({
      type: OidcProvider,
      nullable: true,
      description:
        'Single sign-on, when configured: the browser goes to `GET /auth/oidc/start`, which ' +
        'sends it to the provider and back to `/auth/oidc/callback`; that signs in and ' +
        'redirects to `/`, or to `/login?error=oidc_<reason>` (state, provider, email, banned, ' +
        'unavailable).',
      resolve: (config) => config.oidc,
    }),
  }),
});

builder.queryFields((t) => ({
  authConfig: t.field({
    type: AuthConfig,
    description: 'How people sign in to this server. Anonymous.',
    resolve: (_root, _args, ctx) => ctx.services.authConfig,
  }),
}));
