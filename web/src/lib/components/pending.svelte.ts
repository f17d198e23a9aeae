import type { CombinedError } from '@urql/core';
import { failed } from '$lib/mutate';

/**
 * One "are you sure?" step of a list (revoke a link, a token, a session; delete a passkey): which
 * row it is about, whether its ConfirmDialog is open, and whether the mutation is under way. A
 * failure is a toast with the server's message; `done` runs only after success.
 *
 *   const revoking = new PendingAction<Link>((l) => client.mutation(Revoke, { id: l.id }), done);
 *   <button onclick={() => revoking.ask(link)}>…  <ConfirmDialog bind:open={revoking.open} …>
 */
export class PendingAction<T> {
  target = $state<T | null>(null);
  open = $state(false);
  busy = $state(false);

  constructor(
    private readonly run: (target: T) => PromiseLike<{ error?: CombinedError }>,
    private readonly done: (target: T) => void | Promise<void>,
  ) {}

  ask(target: T): void {
    this.target = target;
    this.open = true;
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
