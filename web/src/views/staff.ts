// Staff: "All servers" (searchable by owner or name) and "Course batch"
// (a directory group's plan first, then the batch with live progress).
import { api, jobFinished, ok, okWithStatus, ApiError, type Guest, type Schema } from "../api.js";
import { append, button, debounce, el, field, form, idempotencyKey, reconcile, replace, setText } from "../dom.js";
import { announce, clearError, current, currentGeneration, fail, Refresher, showError } from "../ui.js";
import { cell, table } from "./servers.js";
import type { View } from "./view.js";

type BatchPlan = Schema<"BatchPlan">;
type BatchView = Schema<"BatchView">;

const NAME = /^[A-Za-z0-9@#$]{1,8}$/;
const PAGE = 50;

export class AllServersView implements View {
  readonly heading = el("h2", { id: "view-heading", tabindex: -1 }, "All servers");
  readonly root: HTMLElement;
  private readonly search = el("input", { type: "search", id: "search", autocomplete: "off", spellcheck: "false" });
  private readonly summary = el("p", { class: "muted" });
  private readonly body: HTMLTableSectionElement;
  private readonly table: HTMLTableElement;
  private readonly next = button("Next page", () => this.page(this.nextCursor));
  private readonly first = button("First page", () => this.page(null));
  private readonly refresher = new Refresher(() => this.load());
  private readonly gen = currentGeneration();
  private stopped = false;
  private cursor: string | null = null;
  private nextCursor: string | null = null;
  private seq = 0;

  constructor() {
    const t = table("Servers", ["Name", "Owner", "State", "Address", "Root version"]);
    this.body = t.body;
    this.table = t.table;
    this.next.hidden = true;
    this.first.hidden = true;
    const searchLater = debounce(() => {
      this.cursor = null;
      this.refresher.now();
    }, 250);
    this.search.addEventListener("input", searchLater);
    this.root = el(
      "div",
      { class: "view" },
      this.heading,
      form(
        { role: "search", class: "inline" },
        () => {
          this.cursor = null;
          this.refresher.now();
        },
        field("Search", this.search, { hint: "owner or server name" }),
      ),
      this.summary,
      el("div", { class: "table-wrap" }, this.table),
      el("div", { class: "buttons" }, this.first, this.next),
    );
    this.refresher.now();
  }

  refresh(): void {
    this.refresher.now();
  }

  unmount(): void {
    this.stopped = true;
    this.refresher.stop();
  }

  private page(cursor: string | null): void {
    this.cursor = cursor;
    this.refresher.now();
  }

  private async load(): Promise<void> {
    const seq = ++this.seq;
    const q = this.search.value.trim();
    let guests: Guest[];
    let nextCursor: string | null = null;
    if (q === "") {
      const query = this.cursor ? { limit: PAGE, cursor: this.cursor } : { limit: PAGE };
      const page = await ok(api.GET("/api/v1/guests", { params: { query } }));
      guests = page.items;
      nextCursor = page.next_cursor ?? null;
    } else {
      const found = new Map<string, Guest>();
      const byOwner = ok(api.GET("/api/v1/guests", { params: { query: { owner: q, limit: 500 } } }))
        .then((p) => p.items)
        .catch(notFound);
      const byName = NAME.test(q)
        ? ok(api.GET("/api/v1/guests/{name}", { params: { path: { name: q.toUpperCase() } } }))
            .then((g) => [g])
            .catch(notFound)
        : Promise.resolve([] as Guest[]);
      for (const list of await Promise.all([byName, byOwner])) for (const g of list) found.set(g.name, g);
      guests = Array.from(found.values()).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    }
    if (seq !== this.seq || this.stopped || !current(this.gen)) return;
    this.nextCursor = nextCursor;
    this.next.hidden = nextCursor === null;
    this.first.hidden = this.cursor === null || q !== "";
    this.table.hidden = guests.length === 0;
    setText(
      this.summary,
      guests.length === 0
        ? q === ""
          ? "There are no servers."
          : `No server matches “${q}”.`
        : q === ""
          ? `${guests.length} servers on this page.`
          : `${guests.length} ${guests.length === 1 ? "server matches" : "servers match"} “${q}”.`,
    );
    reconcile(
      this.body,
      guests,
      (g) => g.name,
      () =>
        el(
          "tr",
          null,
          el("th", { scope: "row", "data-label": "Name" }),
          cell("Owner"),
          cell("State"),
          cell("Address"),
          cell("Root version"),
        ),
      (row, g) => {
        setText(row.cells[0]!, g.name);
        setText(row.cells[1]!, g.owner ?? "(pool)");
        setText(row.cells[2]!, g.state);
        setText(row.cells[3]!, g.ip_address ?? "none");
        setText(row.cells[4]!, g.root_version == null ? "not booted" : String(g.root_version));
      },
      () => this.search,
    );
    // The events stream tells staff only of their own guests (SPEC §10), so
    // others' changes are looked for every second.
    this.refresher.after(1000);
  }
}

/** A search that finds nothing (404, or an owner that is not a user) is empty. */
function notFound(e: unknown): Guest[] {
  if (e instanceof ApiError && (e.status === 404 || e.status === 422 || e.status === 400)) return [];
  throw e;
}

export class CourseBatchView implements View {
  readonly heading = el("h2", { id: "view-heading", tabindex: -1 }, "Course batch");
  readonly root: HTMLElement;
  private readonly group = el("input", { type: "text", id: "batch-group", required: true, autocomplete: "off", spellcheck: "false" });
  private readonly perUser = el("input", {
    type: "number",
    id: "batch-per-user",
    min: 1,
    max: 50,
    step: 1,
    value: 1,
    required: true,
    inputmode: "numeric",
  });
  private readonly run = button("Run batch", () => void this.runBatch(), "primary");
  private readonly plan = el("div", { class: "plan", hidden: true });
  private readonly progress = el("div", { class: "progress", hidden: true });
  private readonly gen = currentGeneration();
  private stopped = false;
  /** The inputs the plan shown was made for, and the key to run it with. */
  private planned: { key: string; idempotency: string } | null = null;
  private polling = false;

  constructor() {
    this.run.disabled = true;
    const changed = (): void => {
      this.run.disabled = this.planned === null || this.planned.key !== this.inputsKey();
    };
    this.group.addEventListener("input", changed);
    this.perUser.addEventListener("input", changed);
    this.root = el(
      "div",
      { class: "view" },
      this.heading,
      form(
        { class: "grid" },
        () => void this.dryRun(),
        field("Directory group", this.group),
        field("Servers per user", this.perUser),
        el(
          "div",
          { class: "field submit buttons" },
          el("button", { type: "submit" }, "Plan (dry run)"),
          this.run,
        ),
      ),
      el("p", { class: "muted" }, "“Run batch” runs the plan shown; plan again after changing the fields."),
      this.plan,
      this.progress,
    );
  }

  refresh(): void {
    // Batches say nothing on the event stream: their progress is polled.
  }

  unmount(): void {
    this.stopped = true;
  }

  private alive(): boolean {
    return !this.stopped && current(this.gen);
  }

  private inputsKey(): string {
    return `${this.group.value.trim()}\n${this.perUser.value.trim()}`;
  }

  private request(dryRun: boolean): Schema<"BatchRequest"> {
    return {
      ldap_group: this.group.value.trim(),
      guests_per_user: Number(this.perUser.value),
      ...(dryRun ? { dry_run: true } : {}),
    };
  }

  private async dryRun(): Promise<void> {
    clearError();
    const key = this.inputsKey();
    announce("Planning…");
    try {
      const { data, status } = await okWithStatus(
        api.POST("/api/v1/provisioning/batches", { body: this.request(true) }),
      );
      if (!this.alive()) return;
      if (status !== 200 || !("capacity" in data)) throw new Error("The server did not answer a plan.");
      this.showPlan(data);
      this.planned = { key, idempotency: idempotencyKey() };
      this.run.disabled = this.inputsKey() !== key;
      const gets = data.users.filter((u) => u.needs > 0).length;
      announce(`Plan: ${gets} of ${data.users.length} users get servers; ${data.skipped} skipped.`);
    } catch (e) {
      fail(e);
      announce("");
    }
  }

  private showPlan(p: BatchPlan): void {
    const c = p.capacity;
    const gets = p.users.filter((u) => u.needs > 0).length;
    const users = table("Users", ["User", "Has", "Gets", "Known"]);
    for (const u of p.users) {
      append(
        users.body,
        el(
          "tr",
          null,
          el("th", { scope: "row", "data-label": "User" }, u.username),
          cell("Has", String(u.has)),
          cell("Gets", String(u.needs)),
          cell("Known", u.known ? "yes" : "no"),
        ),
      );
    }
    replace(
      this.plan,
      el("h3", null, "Plan"),
      el(
        "p",
        null,
        `${p.users.length} ${p.users.length === 1 ? "user" : "users"}: ${gets} to create servers for, ${p.skipped} skipped (they have enough).`,
      ),
      el("h4", null, "Capacity"),
      el(
        "p",
        { class: c.fits ? "good" : "bad" },
        c.fits ? "It fits." : "It does not fit: there are not enough addresses or disk space.",
      ),
      facts([
        ["Servers needed", String(c.guests_needed)],
        ["From the pool", `${c.from_pool} (${c.pool_available} available)`],
        ["To clone", String(c.to_clone)],
        ["Addresses free", String(c.addresses_free)],
        ["Disk needed", bytes(c.disk_needed_bytes)],
        ["Disk free", bytes(c.disk_free_bytes)],
      ]),
      el("div", { class: "table-wrap" }, users.table),
    );
    this.plan.hidden = false;
  }

  private async runBatch(): Promise<void> {
    if (!this.planned || this.planned.key !== this.inputsKey()) {
      showError("Plan the batch first (Plan (dry run)), then run it.");
      return;
    }
    clearError();
    announce("Starting the batch…");
    try {
      const { data } = await okWithStatus(
        api.POST("/api/v1/provisioning/batches", {
          params: { header: { "Idempotency-Key": this.planned.idempotency } },
          body: this.request(false),
        }),
      );
      if (!this.alive()) return;
      if (!("items" in data)) throw new Error("The server did not start a batch.");
      this.showProgress(data);
      announce(`Batch ${data.id} started.`);
      void this.poll(data.id);
    } catch (e) {
      fail(e);
    }
  }

  private async poll(id: number): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      while (this.alive()) {
        const b = await ok(api.GET("/api/v1/provisioning/batches/{id}", { params: { path: { id } } }));
        if (!this.alive()) return;
        this.showProgress(b);
        if (jobFinished(b.status)) {
          if (b.status === "succeeded") {
            announce(`Batch ${b.id} succeeded: ${b.totals.guests} servers handed out.`);
          } else {
            announce(`Batch ${b.id} ${b.status}.`);
            showError(`Batch ${b.id} ${b.status}: ${b.totals.failed} of ${b.totals.users} users failed.`);
          }
          return;
        }
        await new Promise((r) => window.setTimeout(r, 500));
      }
    } catch (e) {
      fail(e);
    } finally {
      this.polling = false;
    }
  }

  private progressParts: {
    done: HTMLElement;
    status: HTMLElement;
    totals: HTMLElement;
    body: HTMLTableSectionElement;
  } | null = null;

  private showProgress(b: BatchView): void {
    if (!this.progressParts) {
      const items = table("Users of the batch", ["User", "Status", "Servers", "Error"]);
      const parts = {
        done: el("p", { class: "big", "aria-live": "polite" }),
        status: el("p"),
        totals: el("div"),
        body: items.body,
      };
      this.progressParts = parts;
      replace(
        this.progress,
        el("h3", null, "Progress"),
        parts.done,
        parts.status,
        parts.totals,
        el("div", { class: "table-wrap" }, items.table),
      );
    }
    const parts = this.progressParts;
    this.progress.hidden = false;
    setText(parts.done, `${b.progress.done} of ${b.progress.total} done`);
    setText(parts.status, `Batch ${b.id}${b.ldap_group ? ` for ${b.ldap_group}` : ""}: ${b.status}`);
    const t = b.totals;
    replace(
      parts.totals,
      facts([
        ["Users", String(t.users)],
        ["Pending", String(t.pending)],
        ["Assigned", String(t.assigned)],
        ["Cloned", String(t.cloned)],
        ["Skipped", String(t.skipped)],
        ["Failed", String(t.failed)],
        ["Cancelled", String(t.cancelled)],
        ["Servers handed out", String(t.guests)],
      ]),
    );
    reconcile(
      parts.body,
      b.items,
      (i) => i.username,
      () =>
        el(
          "tr",
          null,
          el("th", { scope: "row", "data-label": "User" }),
          cell("Status"),
          cell("Servers"),
          cell("Error"),
        ),
      (row, i) => {
        setText(row.cells[0]!, i.username);
        setText(row.cells[1]!, i.status);
        row.cells[1]!.className = `item item-${i.status}`;
        setText(row.cells[2]!, i.guests.length ? i.guests.join(", ") : "none");
        setText(row.cells[3]!, i.error ?? "");
      },
    );
  }
}

/** A `<dl>` of label/value pairs. */
export function facts(pairs: [string, string][]): HTMLDListElement {
  return el(
    "dl",
    { class: "facts" },
    pairs.map(([k, v]) => el("div", null, el("dt", null, k), el("dd", null, v))),
  );
}

function bytes(n: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u += 1;
  }
  return u === 0 ? `${n} bytes` : `${v.toFixed(1)} ${units[u]}`;
}
