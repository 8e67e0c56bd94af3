// Runs one task at a time where only the newest matters (a policy text being parsed): starting a
// new one aborts the one running, and a result is applied only if no newer task started since, so
// an older parse finishing after a newer one can never overwrite it.

export class LatestOnly {
  private running: { readonly controller: AbortController; readonly done: Promise<void> } | null = null;

  /**
   * Starts `task`, aborting the one running. `apply` or `fail` is called with its outcome unless a
   * newer task (or cancel) came first; a task that answers synchronously is applied at once.
   */
  run<T>(task: (signal: AbortSignal) => T | Promise<T>, apply: (result: T) => void, fail: (error: unknown) => void): void {
    this.cancel();
    const controller = new AbortController();
    let result: T | Promise<T>;
    try {
      result = task(controller.signal);
    } catch (error) {
      fail(error);
      return;
    }
    if (!(result instanceof Promise)) {
      apply(result);
      return;
    }
    const done = result
      .then(
        (value) => {
          if (!controller.signal.aborted) apply(value);
        },
        (error: unknown) => {
          if (!controller.signal.aborted) fail(error);
        },
      )
      .finally(() => {
        if (this.running?.controller === controller) this.running = null;
      });
    this.running = { controller, done };
  }

  /** Aborts the running task; its outcome is dropped. */
  cancel(): void {
    this.running?.controller.abort();
    this.running = null;
  }

  isRunning(): boolean {
    return this.running !== null;
  }

  /** Resolves once no task is running (including ones started while waiting). */
  async settled(): Promise<void> {
    while (this.running !== null) await this.running.done;
  }
}
