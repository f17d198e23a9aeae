import type { CombinedError } from '@urql/core';
import { failed } from '$lib/mutate';

/**
 * A dialog about one row (edit it, show its history, confirm its removal): which row it is about
 * and whether it is open. The row stays after closing, so the dialog keeps its text while it fades.
 *
 *   const editing = new RowDialog<File>();
 *   <button onclick={() => editing.show(file)}>…  <EditDialog bind:open={editing.open} file={editing.target}>
 */
export class RowDialog<T> {
  target = $state<T | null>(null);
  open = $state(false);

  show(target: T): void {
    this.target = target;
    this.open = true;
  }
}

/**
 * One "are you sure?" step of a list (revoke a link, a token, a session; delete a passkey): a
 * RowDialog whose mutation is under way while `busy`. A failure is a toast with the server's
 * message; `done` runs only after success.
 *
 *   const revoking = new PendingAction<Link>((l) => client.mutation(Revoke, { id: l.id }), done);
 *   <button onclick={() => revoking.show(link)}>…  <PendingConfirm action={revoking} …>
 */
export class PendingAction<T> extends RowDialog<T> {
  busy = $state(false);

  constructor(
    private readonly run: (target: T) => PromiseLike<{ error?: CombinedError }>,
    private readonly done: (target: T) => void | Promise<void>,
  ) {
    super();
  }

  async confirm(): Promise<void> {
    const target = this.target;
    if (!target || this.busy) return;
    this.busy = true;
    const result = await this.run(target);
    this.busy = false;
    this.open = false;
    if (failed(result)) return;
    await this.done(target);
  }
}
