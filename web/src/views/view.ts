// What every view of the page is: a section with an h2, refreshed when the
// event stream says something happened, stopped when another view shows.
import type { Me } from "../api.js";

export interface View {
  /** The view's section, put into `<main>`. */
  readonly root: HTMLElement;
  /** Its h2 (focused after login and after following a link). */
  readonly heading: HTMLElement;
  /** Loads what it shows again (debounced by the caller). */
  refresh(): void;
  /** Stops its timers and polls. */
  unmount(): void;
}

export interface Context {
  readonly user: Me;
}
