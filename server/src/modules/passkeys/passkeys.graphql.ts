import type { PasskeyRow } from '../../db/database.js';
import { builder } from '../../graphql/builder.js';
import { clientOf } from '../../graphql/context.js';
import { idArg, instant, instantOrNull, ownRevocableList, SESSION } from '../../graphql/fields.js';
import { AuthPayload, signingIn } from '../auth/auth.graphql.js';

const Passkey = builder.objectRef<PasskeyRow>('Passkey').implement({
  description:
    'A passkey (WebAuthn credential) of the signed-in user: signs in without a password, on the ' +
    'host name it was made on.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The credential id (base64url).' }),
    name: t.exposeString('name', {
      description: 'A name to tell passkeys apart, 1–100 characters.',
    }),
    createdAt: t.expose('created_at', instant('When it was added.')),
    lastUsedAt: t.expose('last_used_at', instantOrNull('Its last sign-in; null if never used.')),
  }),
});

ownRevocableList(
  Passkey,
  {
    name: 'passkeys',
    description: 'The signed-in user’s passkeys, newest first. Needs a session.',
    resolve: (ctx, userId) => ctx.services.passkeys.list(userId),
  },
  {
    name: 'deletePasskey',
    description: 'Removes one of your passkeys; NOT_FOUND for one that is not yours.',
    id: 'A `Passkey.id`.',
    resolve: (ctx, id) => ctx.services.passkeys.delete(ctx.viewer!.user, id, ctx.clientAddress),
  },
);

builder.mutationFields((t) => ({
  startPasskeyRegistration: t.string({
    description:
      'Begins adding a passkey: PublicKeyCredentialCreationOptionsJSON as JSON text, for ' +
      '`startRegistration` of @simplewebauthn/browser (or navigator.credentials.create). Its ' +
      'challenge is valid five minutes, once. Needs a session.',
    authScopes: SESSION,
    resolve: (_root, _args, ctx) =>
      ctx.services.passkeys.startRegistration(ctx.viewer!.user, ctx.origin),
  }),
  finishPasskeyRegistration: t.field({
    type: Passkey,
    description:
      'Adds the passkey from the browser’s registration response (JSON text). BAD_USER_INPUT on ' +
      '`response` when it does not verify (wrong origin, unknown or used challenge, malformed).',
    authScopes: SESSION,
    args: {
      response: t.arg.string({ required: true, description: 'RegistrationResponseJSON as text.' }),
      name: t.arg.string({ required: false, description: '1–100 characters; default "Passkey".' }),
    },
    resolve: (_root, args, ctx) =>
      ctx.services.passkeys.finishRegistration(
        ctx.viewer!.user,
        args,
        ctx.origin,
        ctx.clientAddress,
      ),
  }),
  renamePasskey: t.field({
    type: Passkey,
    description: 'Renames one of your passkeys; NOT_FOUND for one that is not yours.',
    authScopes: SESSION,
    args: {
      ...idArg(t.arg, 'A `Passkey.id`.'),
      name: t.arg.string({ required: true, description: '1–100 characters.' }),
    },
    resolve: (_root, args, ctx) =>
      ctx.services.passkeys.rename(ctx.viewer!.user.id, String(args.id), args.name),
  }),
  startPasskeyLogin: t.string({
    description:
      'Begins signing in with a passkey (anonymous callers may call it): ' +
      'PublicKeyCredentialRequestOptionsJSON as JSON text for `startAuthentication`. Counts ' +
      'toward AUTH_RATE_PER_ADDRESS.',
    resolve: (_root, _args, ctx) => ctx.services.passkeys.startLogin(ctx.origin, clientOf(ctx)),
  }),
  finishPasskeyLogin: t.field({
    type: AuthPayload,
    description:
      'Signs in with the browser’s authentication response (JSON text) and starts a session, as ' +
      '`login` does; a passkey stands for both factors. BAD_USER_INPUT on `response` when it ' +
      'does not verify (unknown passkey, used challenge, replayed counter), FORBIDDEN for a ' +
      'banned account.',
    args: {
      response: t.arg.string({
        required: true,
        description: 'AuthenticationResponseJSON as text.',
      }),
    },
    resolve: signingIn((ctx, args, client) =>
      ctx.services.passkeys.finishLogin(args.response, ctx.origin, client),
    ),
  }),
}));
