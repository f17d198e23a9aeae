import type { AnyVariables, CombinedError, DocumentInput } from '@urql/core';
import { client } from '$lib/graphql/client';
import { toAppError } from '$lib/graphql/errors';
import { toast } from '$lib/toast.svelte';

/**
 * Whether an answer failed; a failure is shown as a toast with the server's message, for actions
 * that have no form to show it beside (buttons, menu items, confirmations).
 */
export function failed(result: { error?: CombinedError }): boolean {
  if (result.error) toast.error(toAppError(result.error).message);
  return !!result.error;
}

/**
 * Sends a mutation that a button or a menu item started: a failure is a toast (`failed`), a
 * success the `success` toast when one is given. The data, or null when it failed.
 *
 *   if (await mutate(BanUserMutation, { id }, `${email} is banned.`)) dialog.open = false;
 */
export async function mutate<Data, Variables extends AnyVariables>(
  document: DocumentInput<Data, Variables>,
  variables: Variables,
  success?: string,
): Promise<Data | null> {
  const result = await client.mutation(document, variables).toPromise();
  if (failed(result)) return null;
  if (success) toast.success(success);
  return result.data ?? null;
}
