// The page's two live regions: status messages (role=status) and errors
// (role=alert), both in the shell (index.html).
import { ApiError } from "./api.js";

function region(id: string): HTMLElement {
  const node = document.getElementById(id);
  if (!node) throw new Error(`index.html has no #${id}`);
  return node;
}

/** A status message ("Starting LX000042…"). */
export function announce(text: string): void {
  region("status").textContent = text;
}

/** An error, as text; said again even when it is the same as the last one. */
export function showError(text: string): void {
  // A new text node each time, so that the same error is said again.
  region("alert").textContent = text;
}

export function clearError(): void {
  region("alert").textContent = "";
}

/** Shows what went wrong; a 401 is not shown (the login view says it). */
export function fail(e: unknown): void {
  // Whatever was under way ("Starting LX000042…") is not any more.
  region("status").textContent = "";
  if (e instanceof ApiError) {
    if (e.status === 401) return;
    showError(e.message);
    return;
  }
  showError(e instanceof Error ? e.message : String(e));
}

/** Ids of the session, so that work started under one stops with it. */
let generation = 0;
export function newGeneration(): number {
  generation += 1;
  return generation;
}
export function current(gen: number): boolean {
  return gen === generation;
}
export function currentGeneration(): number {
  return generation;
}

/**
 * Runs `load` now or, when it is already running, once more right after;
 * `after(ms)` runs it later (the earliest wins); `stop()` ends it all.
 */
export class Refresher {
  private running = false;
  private again = false;
  private stopped = false;
  private timer: number | undefined;
  private due = Infinity;

  constructor(private readonly load: () => Promise<void>) {}

  now(): void {
    if (this.stopped) return;
    this.clearTimer();
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.load()
      .catch(fail)
      .finally(() => {
        this.running = false;
        if (this.again) {
          this.again = false;
          this.now();
        }
      });
  }

  after(ms: number): void {
    if (this.stopped) return;
    const due = performance.now() + ms;
    if (this.timer !== undefined && this.due <= due) return;
    this.clearTimer();
    this.due = due;
    this.timer = window.setTimeout(() => {
      this.timer = undefined;
      this.due = Infinity;
      this.now();
    }, ms);
  }

  stop(): void {
    this.stopped = true;
    this.clearTimer();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) window.clearTimeout(this.timer);
    this.timer = undefined;
    this.due = Infinity;
  }
}
