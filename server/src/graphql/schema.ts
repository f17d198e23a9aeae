import { lexicographicSortSchema, printSchema } from 'graphql';
import { builder } from './builder.js';

// One import per domain: adding a domain adds a line here.
import '../modules/users/users.graphql.js';
import '../modules/auth/auth.graphql.js';
import '../modules/passkeys/passkeys.graphql.js';
import '../modules/oidc/oidc.graphql.js';
import '../modules/tokens/tokens.graphql.js';
import '../modules/tags/tags.graphql.js';
import '../modules/files/files.graphql.js';
import '../modules/files/files.bulk.graphql.js';
import '../modules/downloads/downloads.graphql.js';
import '../modules/stats/stats.graphql.js';
import '../modules/search/search.graphql.js';
import '../modules/audit/audit.graphql.js';
import '../modules/shares/shares.graphql.js';
import '../modules/previews/previews.graphql.js';

export const schema = builder.toSchema({ sortSchema: true });

/** The SDL checked in as /schema.graphql. */
export const printedSchema = () => `${printSchema(lexicographicSortSchema(schema))}\n`;
