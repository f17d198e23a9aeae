import type { AnyVariables, DocumentInput } from '@urql/core';
import { client } from './client';
import { bannerMessage, toAppError, type AppError } from './errors';

/**
 * The state of a form that sends mutations: `busy` while one is under way (a second submit is
 * ignored rather than sent twice), and the coded error of the last failure, which the banner and
 * the fields read.
 *
 *   const form = new MutationForm();
 *   const data = await form.send(ChangePasswordMutation, { … });  // null: failed or busy
 *   <TextField error={form.error?.fields.name} …>  {form.banner(['name'])}
 */
export class MutationForm {
  busy = $state(false);
  error = $state<AppError | null>(null);

  async send<Data, Variables extends AnyVariables>(
    document: DocumentInput<Data, Variables>,
    variables: Variables,
  ): Promise<Data | null> {
    if (this.busy) return null;
    this.busy = true;
    this.error = null;
    const result = await client.mutation(document, variables).toPromise();
    this.busy = false;
    if (result.error) this.error = toAppError(result.error);
    return result.error ? null : (result.data ?? null);
  }

  /** The banner for the error, leaving out what the named fields already show beside them. */
  banner(shownFields: readonly string[]): string | null {
    return this.error ? bannerMessage(this.error, shownFields) : null;
  }
}
