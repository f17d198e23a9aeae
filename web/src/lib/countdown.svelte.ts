/** Seconds left before a rate-limited form may be sent again. */
export class Countdown {
  remaining = $state(0);
  #timer: ReturnType<typeof setInterval> | undefined;

  start(seconds: number): void {
    clearInterval(this.#timer);
    this.remaining = Math.max(0, Math.ceil(seconds));
    this.#timer = setInterval(() => {
      this.remaining = Math.max(0, this.remaining - 1);
      if (this.remaining === 0) clearInterval(this.#timer);
    }, 1000);
  }

  get active(): boolean {
    return this.remaining > 0;
  }

  /** "0:42" */
  get label(): string {
    const m = Math.floor(this.remaining / 60);
    const s = String(this.remaining % 60).padStart(2, '0');
    return `${m}:${s}`;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.remaining = 0;
  }
}
