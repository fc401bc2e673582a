// Tiny DOM helpers. Text only ever goes in through textContent or text
// nodes: nothing here (or anywhere in the page) parses a string as markup.

export type Child = Node | string | number | null | undefined | false;
type Handler = (ev: Event) => void;
export type Attrs = Record<string, string | number | boolean | null | undefined | Handler>;

const FORBIDDEN = new Set(["style", "innerhtml", "outerhtml", "srcdoc"]);

/** Sets one attribute (or property, for live form state) on `node`. */
export function setAttr(node: Element, name: string, value: Attrs[string]): void {
  const lower = name.toLowerCase();
  if (FORBIDDEN.has(lower)) throw new Error(`el: ${name} is not allowed`);
  if (typeof value === "function") {
    if (!lower.startsWith("on")) throw new Error(`el: ${name} is not an event`);
    node.addEventListener(lower.slice(2), value);
    return;
  }
  if (lower.startsWith("on")) throw new Error(`el: ${name} must be a function`);
  if (name === "value" && "value" in node) {
    (node as HTMLInputElement).value = value == null ? "" : String(value);
  } else if (name === "checked" && node instanceof HTMLInputElement) {
    node.checked = value === true;
  } else if (value === false || value == null) {
    node.removeAttribute(name);
  } else if (value === true) {
    node.setAttribute(name, "");
  } else {
    node.setAttribute(name, String(value));
  }
}

/** `el("p", {class: "x"}, "text", child)`: an element with text children. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (attrs) for (const [k, v] of Object.entries(attrs)) setAttr(node, k, v);
  append(node, ...children);
  return node;
}

/** A form that runs `onSubmit` instead of navigating (Enter submits it too). */
export function form(attrs: Attrs, onSubmit: () => void, ...children: (Child | Child[])[]): HTMLFormElement {
  const submit = (ev: Event) => {
    ev.preventDefault();
    onSubmit();
  };
  return el("form", { ...attrs, onsubmit: submit }, ...children);
}

export function append(node: Node, ...children: (Child | Child[])[]): void {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
  }
}

/** Replaces every child of `node`. */
export function replace(node: Node, ...children: (Child | Child[])[]): void {
  while (node.firstChild) node.removeChild(node.firstChild);
  append(node, ...children);
}

/** Sets the text of `node` when it differs (live regions stay quiet otherwise). */
export function setText(node: Node, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}

/** A `<time datetime>` with the local, readable form of an RFC 3339 value. */
export function timeEl(rfc3339: string): HTMLTimeElement {
  const d = new Date(rfc3339);
  const shown = Number.isNaN(d.getTime()) ? rfc3339 : d.toLocaleString();
  return el("time", { datetime: rfc3339 }, shown);
}

/** An id made from a prefix and a guest name (which may hold @, # and $). */
export function idFor(prefix: string, name: string): string {
  return `${prefix}-${name.replace(/[^A-Za-z0-9_-]/g, (c) => `_${c.charCodeAt(0).toString(16)}`)}`;
}

let counter = 0;
/** A fresh id for a label and its control. */
export function uid(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** A label (visible unless `hidden` says so) and its control, in a field row. */
export function field(
  label: string,
  control: HTMLElement,
  opts: { hint?: string; labelHidden?: boolean; className?: string } = {},
): HTMLElement {
  if (!control.id) control.id = uid("f");
  const parts: Child[] = [
    el("label", { for: control.id, class: opts.labelHidden ? "vh" : null }, label),
    control,
  ];
  if (opts.hint) {
    const hintId = `${control.id}-hint`;
    control.setAttribute("aria-describedby", hintId);
    parts.push(el("span", { class: "hint", id: hintId }, opts.hint));
  }
  return el("div", { class: opts.className ?? "field" }, parts);
}

export function button(text: string, onClick: () => void, className?: string): HTMLButtonElement {
  return el("button", { type: "button", class: className ?? null, onclick: () => onClick() }, text);
}

/**
 * Makes `parent`'s children match `items`, one element per key: existing
 * elements are kept (so focus and typed text stay) and updated, new ones
 * made, old ones removed. When a removed element held the focus, `lostFocus`
 * answers where it goes.
 */
export function reconcile<T, E extends HTMLElement>(
  parent: HTMLElement,
  items: readonly T[],
  key: (item: T) => string,
  create: (item: T) => E,
  update: (node: E, item: T) => void,
  lostFocus?: () => HTMLElement | null,
): void {
  const existing = new Map<string, E>();
  for (const child of Array.from(parent.children)) {
    const k = (child as HTMLElement).dataset.key;
    if (k !== undefined) existing.set(k, child as E);
  }
  const wanted = new Map<string, T>();
  for (const item of items) {
    const k = key(item);
    if (!wanted.has(k)) wanted.set(k, item);
  }
  // Remove first, so that keeping the order moves as little as possible
  // (a moved element loses the focus).
  let focusLost = false;
  for (const [k, node] of existing) {
    if (wanted.has(k)) continue;
    if (node.contains(document.activeElement)) focusLost = true;
    node.remove();
  }
  let index = 0;
  for (const [k, item] of wanted) {
    let node = existing.get(k);
    if (node) {
      update(node, item);
    } else {
      node = create(item);
      node.dataset.key = k;
      update(node, item);
    }
    const at = parent.children[index];
    if (at !== node) parent.insertBefore(node, at ?? null);
    index += 1;
  }
  if (focusLost && lostFocus) lostFocus()?.focus();
}

/** Something to call at most once every `ms` milliseconds, the last call winning. */
export function debounce(fn: () => void, ms: number): () => void {
  let timer: number | undefined;
  return () => {
    if (timer !== undefined) window.clearTimeout(timer);
    timer = window.setTimeout(() => {
      timer = undefined;
      fn();
    }, ms);
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => window.setTimeout(resolve, ms));
}

/** 1–255 visible ASCII characters, new for each intended change. */
export function idempotencyKey(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
