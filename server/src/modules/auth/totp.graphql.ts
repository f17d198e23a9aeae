import { builder } from '../../graphql/builder.js';
import { clientOf, type Context } from '../../graphql/context.js';
import {
  ADMIN_SESSION,
  byUserId,
  exposedColumns,
  SESSION,
  userIdArg,
} from '../../graphql/fields.js';
import { User } from '../users/users.graphql.js';

const TotpSetup = builder.objectRef<{ secret: string; uri: string }>('TotpSetup').implement({
  description:
    'A two-factor secret being set up: show `uri` as a QR code (or `secret` for typing in) to an ' +
    'authenticator app, then call `confirmTotp` with a code it shows.',
  fields: (t) => ({
    ...exposedColumns(t, 'String', false, {
      secret: ['secret', 'The shared secret, base32.'],
      uri: [
        'uri',
        'An otpauth://totp/ URI (RFC 6238: SHA-1, 6 digits, 30 seconds, issuer Cabinet) for the ' +
          'QR code.',
      ],
    }),
  }),
});

const self = (ctx: Context, userId: number) => ctx.viewer?.user.id === userId;

builder.objectFields(User, (t) => ({
  totpEnabled: t.boolean({
    description:
      'Whether two-factor sign-in (TOTP) is on. Told to the user and to admins; false for ' +
      'anyone else.',
    resolve: (u, _args, ctx) =>
      u.totp_secret !== null && (self(ctx, u.id) || ctx.viewer?.user.role === 'ADMIN'),
  }),
  recoveryCodesLeft: t.int({
    nullable: true,
    description:
      'How many unused two-factor recovery codes the user has; null unless it is you and ' +
      'two-factor is on.',
    resolve: (u, _args, ctx) =>
      self(ctx, u.id) && u.totp_secret !== null ? ctx.services.auth.recoveryCodesLeft(u.id) : null,
  }),
  adminNeedsTotp: t.boolean({
    description:
      'True for yourself when you are an ADMIN held back to USER rights because the server ' +
      'requires two-factor for admins (REQUIRE_ADMIN_TOTP=on) and yours is off: turn it on in ' +
      'your account to act as an admin again.',
    resolve: (u, _args, ctx) => self(ctx, u.id) && ctx.viewer?.heldAdmin === true,
  }),
}));

builder.mutationFields((t) => ({
  startTotpSetup: t.field({
    type: TotpSetup,
    description:
      'Starts turning on two-factor sign-in: a new secret, pending until `confirmTotp`. Calling ' +
      'again replaces the pending one. CONFLICT when two-factor is already on. Needs a session.',
    authScopes: SESSION,
    resolve: (_root, _args, ctx) => ctx.services.auth.startTotpSetup(ctx.viewer!.user),
  }),
  confirmTotp: t.stringList({
    description:
      'Turns two-factor on with a code from the authenticator app and answers ten single-use ' +
      'recovery codes, shown this once (only their hashes are kept). BAD_USER_INPUT on `code` ' +
      'for a wrong code or when no setup was started; wrong codes count toward the sign-in ' +
      'limits. From then on `login` needs `totp`. Needs a session.',
    authScopes: SESSION,
    args: { code: t.arg.string({ required: true, description: 'Six digits.' }) },
    resolve: (_root, args, ctx) =>
      ctx.services.auth.confirmTotp(ctx.viewer!.user, args.code, clientOf(ctx)),
  }),
  disableTotp: t.boolean({
    description:
      'Turns two-factor sign-in off and deletes the recovery codes, after checking the password ' +
      '(BAD_USER_INPUT on `password` when wrong; counts as a failed sign-in). Needs a session.',
    authScopes: SESSION,
    args: { password: t.arg.string({ required: true, description: 'The account’s password.' }) },
    resolve: async (_root, args, ctx) => {
      await ctx.services.auth.disableTotp(ctx.viewer!.user, args.password, clientOf(ctx));
      return true;
    },
  }),
  regenerateRecoveryCodes: t.stringList({
    description:
      'Replaces the two-factor recovery codes (used or not) with ten new ones, shown this once ' +
      '(only their hashes are kept), after a current code from the authenticator app. ' +
      'BAD_USER_INPUT on `code` for a wrong or already used code (counts toward the sign-in ' +
      'limits), CONFLICT when two-factor is off. Audited. Needs a session.',
    authScopes: SESSION,
    args: {
      code: t.arg.string({
        required: true,
        description: 'Six digits from the authenticator app (not a recovery code).',
      }),
    },
    resolve: (_root, args, ctx) =>
      ctx.services.auth.regenerateRecoveryCodes(ctx.viewer!.user, args.code, clientOf(ctx)),
  }),
  disableUserTotp: t.field({
    type: User,
    description:
      'Admin, with a session: turns another user’s two-factor sign-in off and deletes their ' +
      'recovery codes (a lost phone); their password and sessions stay. Audited as ' +
      '`auth.totp_disabled` by the admin. FORBIDDEN for yourself (use `disableTotp`), NOT_FOUND ' +
      'for an unknown user; a user without two-factor is answered unchanged.',
    authScopes: ADMIN_SESSION,
    args: userIdArg(t.arg, 'The user.'),
    resolve: byUserId((userId, ctx) =>
      ctx.services.auth.disableUserTotp(ctx.viewer!.user, userId, ctx.clientAddress),
    ),
  }),
}));
