import { z } from 'zod';
import type { AuditEventRow } from '../../db/database.js';
import { BadUserInputError } from '../../errors.js';
import { builder } from '../../graphql/builder.js';
import { connectionRef, filteredList, pageArgs } from '../../graphql/connection.js';
import { adminOrToken, exposedColumns, instant } from '../../graphql/fields.js';
import { parseOptionalId } from '../../graphql/ids.js';
import { parseField } from '../../validation.js';
import { User } from '../users/users.graphql.js';
import { AUDIT_ACTIONS } from './actions.js';

export const AuditEventRef = builder.objectRef<AuditEventRow>('AuditEvent').implement({
  description:
    'One entry of the audit log: an admin action or a security event, written in the same ' +
    'transaction as the action itself (an action that failed leaves none). Entries are never ' +
    'edited; they are deleted only by retention after AUDIT_DAYS (default 365).',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Stable identifier; later events have larger ids.' }),
    at: t.expose('at', instant('When it happened.')),
    actor: t.expose('actor_id', {
      type: User,
      nullable: true,
      description:
        'Who did it; null for an anonymous caller (a failed sign-in) or the server itself (the ' +
        'trash purge).',
    }),
    ...exposedColumns(t, 'String', false, {
      actorLabel: [
        'actor_label',
        'The actor’s email at that moment; for an anonymous caller the email it tried, ' +
          '`system` for the server itself.',
      ],
      action: ['action', `What happened, as \`<target>.<verb>\`: ${AUDIT_ACTIONS.join(', ')}.`],
    }),
    targetId: t.exposeID('target_id', {
      nullable: true,
      description: 'The target’s id (it may no longer exist).',
    }),
    ...exposedColumns(t, 'String', true, {
      targetType: [
        'target_type',
        'What it happened to: `user`, `file`, `tag`, `token`, `share`, `session`…',
      ],
      targetLabel: ['target_label', 'The target’s name or email at that moment.'],
      address: ['address', 'The client address of the request; null for the server’s own jobs.'],
      details: [
        'details',
        'JSON text: `before` and `after` values of what changed (e.g. ' +
          '`{"before":{"role":"USER"},"after":{"role":"ADMIN"}}`) and other facts of the event.',
      ],
    }),
  }),
});

const AuditEventConnection = connectionRef(AuditEventRef, 'AuditEvent');

const actionArg = z
  .string()
  .max(64, 'must be at most 64 characters')
  .regex(/^[a-z_]+(\.[a-z_]*)?$/, 'must be an action like user.ban, or a family like user.');

builder.queryField('auditEvents', (t) =>
  t.field({
    type: AuditEventConnection,
    description:
      'Admin, or an admin’s API token with the AUDIT scope: the audit log, newest first, ' +
      'filtered by every argument given. Paged: `first` (default 20, at most 100), `after` or ' +
      '`offset`. BAD_USER_INPUT for a malformed filter.',
    authScopes: adminOrToken('AUDIT'),
    args: {
      action: t.arg.string({
        description:
          'An exact action (`user.ban`), or a family ending in a dot (`user.` for every user ' +
          'action).',
      }),
      actorId: t.arg.id({ description: 'Only events by this user.' }),
      from: t.arg({ type: 'DateTime', description: 'Events at or after this instant.' }),
      to: t.arg({ type: 'DateTime', description: 'Events before this instant.' }),
      ...pageArgs(t.arg),
    },
    resolve: filteredList(
      (ctx) => ctx.services.audit,
      (args) => {
        const from = args.from?.getTime() ?? null;
        const to = args.to?.getTime() ?? null;
        if (from != null && to != null && to < from) {
          throw BadUserInputError.field('to', 'must not be before from');
        }
        return {
          action: args.action ? parseField('action', actionArg, args.action) : null,
          actorId: parseOptionalId(args.actorId, 'actorId'),
          from,
          to,
        };
      },
    ),
  }),
);
