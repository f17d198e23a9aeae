import { client } from './graphql/client';
import { NeedsFirstAccountQuery } from './graphql/auth';

/**
 * Whether the library has no account yet (its first becomes the admin). A failed request answers
 * false: the sign-in page is then shown as usual.
 */
export async function needsFirstAccount(): Promise<boolean> {
  const result = await client
    .query(NeedsFirstAccountQuery, {}, { requestPolicy: 'network-only' })
    .toPromise();
  return result.data?.needsFirstAccount ?? false;
}
