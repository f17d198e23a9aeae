import type { SessionRow } from '../../db/database.js';
import { builder } from '../../graphql/builder.js';
import { clientOf } from '../../graphql/context.js';
import { instant, ownRevocableList, SESSION } from '../../graphql/fields.js';
import { describeDevice } from './device.js';

const Session = builder.objectRef<SessionRow>('Session').implement({
  description:
    'A signed-in browser or script of the viewer (a session started by `login`, `register`, ' +
    '`resetPassword`, a passkey or single sign-on). API tokens are not sessions.',
  fields: (t) => ({
    id: t.exposeID('id', {
      description: 'Identifies the session for `revokeSession`; not the session token itself.',
    }),
    current: t.boolean({
      description: 'True for the session this request was made with.',
      resolve: (s, _args, ctx) => ctx.viewer?.kind === 'session' && ctx.viewer.sessionId === s.id,
    }),
    createdAt: t.expose('created_at', instant('When it was started.')),
    lastActiveAt: t.field({
      type: 'DateTime',
      description: 'Its last request, recorded at most once a minute.',
      resolve: (s) => s.last_active_at ?? s.created_at,
    }),
    userAgent: t.exposeString('user_agent', {
      nullable: true,
      description: 'The User-Agent header it was started with (at most 512 characters).',
    }),
    device: t.string({
      nullable: true,
      description:
        'The browser and system read from the user agent, e.g. "Firefox 128 on Linux"; null ' +
        'when the user agent names none.',
      resolve: (s) => describeDevice(s.user_agent),
    }),
    address: t.exposeString('address', {
      nullable: true,
      description:
        'The client address it was started from (behind TRUST_PROXY proxies, the forwarded one).',
    }),
  }),
});

ownRevocableList(
  Session,
  {
    name: 'sessions',
    description:
      'The signed-in user’s live sessions, the most recently used first. Needs a session (API ' +
      'tokens get FORBIDDEN).',
    resolve: (ctx, userId) => ctx.services.auth.sessions(userId),
  },
  {
    name: 'revokeSession',
    description:
      'Ends one of the signed-in user’s sessions at once, on every instance; NOT_FOUND for an ' +
      'id that is not one of theirs. Ending the current session also clears its cookie.',
    id: 'A `Session.id`.',
    resolve: async (ctx, id) => {
      const viewer = ctx.viewer!;
      await ctx.services.auth.revokeSession(viewer.user, id, ctx.clientAddress);
      if (viewer.kind === 'session' && viewer.sessionId === id) {
        ctx.setCookie(ctx.services.sessions.blankCookie());
      }
    },
  },
);

builder.mutationFields((t) => ({
  changePassword: t.boolean({
    description:
      'Changes the signed-in user’s password and ends every other session of theirs (the ' +
      'current one stays signed in). A wrong current password is BAD_USER_INPUT on ' +
      '`currentPassword` and counts as a failed sign-in (RATE_LIMITED past the limits); the new ' +
      'one follows the registration rules (8 to 256 characters). Needs a session.',
    authScopes: SESSION,
    args: {
      currentPassword: t.arg.string({ required: true, description: 'The password in use.' }),
      newPassword: t.arg.string({ required: true, description: '8 to 256 characters.' }),
    },
    resolve: async (_root, args, ctx) => {
      const viewer = ctx.viewer!;
      if (viewer.kind !== 'session') return false;
      await ctx.services.auth.changePassword(viewer.user, viewer.sessionId, args, clientOf(ctx));
      return true;
    },
  }),
}));
