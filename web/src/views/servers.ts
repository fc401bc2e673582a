// "My servers": the quota, "Request a server", and one region per server
// with its facts, power, description, services, firewall, reset and recent
// events (docs/web.md).
import {
  api,
  atLeast,
  isPassing,
  ok,
  okWithStatus,
  waitForCommand,
  waitForJob,
  type Guest,
  type Lease,
  type Policy,
  type Schema,
} from "../api.js";
import { countdown } from "../countdown.js";
import {
  append,
  button,
  el,
  field,
  form,
  idFor,
  idempotencyKey,
  reconcile,
  replace,
  setText,
  timeEl,
} from "../dom.js";
import { announce, clearError, current, currentGeneration, fail, Refresher, showError } from "../ui.js";
import type { Context, View } from "./view.js";

type GuestService = Schema<"GuestService">;
type EventView = Schema<"EventView">;
type Protocol = Schema<"Protocol">;
type PowerAction = Schema<"PowerAction">;

/** One part of a server's details: what it answered, or why not. */
type Part<T> = { ok: true; value: T } | { ok: false; detail: string };

interface Details {
  services: Part<GuestService[]>;
  leases: Part<Lease[]>;
  /** `performance.now()` when the leases' answer came. */
  leasesAt: number;
  events: Part<EventView[]>;
}

async function part<T>(call: Promise<T>): Promise<Part<T>> {
  try {
    return { ok: true, value: await call };
  } catch (e) {
    return { ok: false, detail: e instanceof Error ? e.message : String(e) };
  }
}

/** "TCP 8080". */
export function portLabel(protocol: string, port: number): string {
  return `${protocol.toUpperCase()} ${port}`;
}

/** A `<table>` with a caption, header cells and a body to fill. */
export function table(
  caption: string,
  headers: (string | { hidden: string })[],
  captionHidden = false,
): {
  table: HTMLTableElement;
  body: HTMLTableSectionElement;
} {
  const body = el("tbody");
  const t = el(
    "table",
    { class: "stack" },
    el("caption", { class: captionHidden ? "vh" : null }, caption),
    el(
      "thead",
      null,
      el(
        "tr",
        null,
        headers.map((h) =>
          typeof h === "string"
            ? el("th", { scope: "col" }, h)
            : el("th", { scope: "col" }, el("span", { class: "vh" }, h.hidden)),
        ),
      ),
    ),
    body,
  );
  return { table: t, body };
}

/** A table cell that shows its column's name before it on narrow screens. */
export function cell(label: string, ...children: (Node | string)[]): HTMLTableCellElement {
  return el("td", { "data-label": label }, ...children);
}

/** A checkbox with its label after it. */
export function checkField(label: string, input: HTMLInputElement, labelHidden = false): HTMLElement {
  return el("div", { class: "check" }, input, el("label", { for: input.id, class: labelHidden ? "vh" : null }, label));
}

export class ServersView implements View {
  readonly heading = el("h2", { id: "view-heading", tabindex: -1 }, "My servers");
  readonly root: HTMLElement;
  private readonly quota = el("p", { class: "quota" }, "…");
  private readonly list = el("div", { class: "servers" });
  private readonly empty = el("p", { class: "muted", hidden: true }, "You have no servers yet.");
  private readonly cards = new Map<string, ServerCard>();
  private readonly refresher = new Refresher(() => this.load());
  private readonly gen = currentGeneration();
  private policy: Policy | null = null;
  readonly commands = new Map<string, string>();
  private catalogLoaded = false;
  private stopped = false;
  /** Actions under way: while there are any, the list is polled. */
  private busy = 0;

  constructor(private readonly ctx: Context) {
    this.root = el(
      "div",
      { class: "view" },
      this.heading,
      el("div", { class: "toolbar" }, this.quota, button("Request a server", () => void this.request(), "primary")),
      this.empty,
      this.list,
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

  alive = (): boolean => !this.stopped && current(this.gen);

  /** Runs an action, polling the list every second while it lasts. */
  async track(work: () => Promise<void>): Promise<void> {
    this.busy += 1;
    this.refresher.after(1000);
    try {
      await work();
    } catch (e) {
      fail(e);
    } finally {
      this.busy -= 1;
      this.refresh();
    }
  }

  private async load(): Promise<void> {
    const owner = atLeast(this.ctx.user.role, "staff") ? this.ctx.user.username : undefined;
    const [me, page] = await Promise.all([
      ok(api.GET("/api/v1/me")),
      ok(api.GET("/api/v1/guests", { params: { query: owner ? { owner, limit: 100 } : { limit: 100 } } })),
    ]);
    if (!this.policy) this.policy = await ok(api.GET("/api/v1/firewall/policy"));
    if (!this.catalogLoaded) {
      try {
        const catalog = await ok(api.GET("/api/v1/service-catalog", { params: { query: { limit: 500 } } }));
        for (const s of catalog.items) this.commands.set(s.name, s.command);
        this.catalogLoaded = true;
      } catch {
        // The command column stays empty; the rest works.
      }
    }
    const guests = page.items;
    const details = await Promise.all(guests.map((g) => this.details(g.name)));
    if (!this.alive()) return;

    const q = me.quota;
    setText(this.quota, q.max_guests == null ? `${q.used} of unlimited servers` : `${q.used} of ${q.max_guests} servers`);
    this.empty.hidden = guests.length > 0;
    const policy = this.policy;
    const byName = new Map(guests.map((g, i) => [g.name, details[i]!] as const));
    reconcile(
      this.list,
      guests,
      (g) => g.name,
      (g) => {
        const card = new ServerCard(g, this, policy);
        this.cards.set(g.name, card);
        return card.root;
      },
      (_node, g) => this.cards.get(g.name)?.update(g, byName.get(g.name)!),
      () => this.heading,
    );
    for (const name of Array.from(this.cards.keys())) if (!byName.has(name)) this.cards.delete(name);
    if (this.busy > 0 || guests.some((g) => isPassing(g.state))) this.refresher.after(1000);
  }

  private async details(name: string): Promise<Details> {
    let leasesAt = performance.now();
    const [services, leases, events] = await Promise.all([
      part(ok(api.GET("/api/v1/guests/{name}/services", { params: { path: { name }, query: { limit: 500 } } }))),
      part(
        ok(api.GET("/api/v1/guests/{name}/firewall/leases", { params: { path: { name }, query: { limit: 500 } } })).then(
          (page) => {
            leasesAt = performance.now();
            return page;
          },
        ),
      ),
      part(ok(api.GET("/api/v1/events", { params: { query: { guest: name, limit: 10 } } }))),
    ]);
    return {
      services: services.ok ? { ok: true, value: services.value.items } : services,
      leases: leases.ok ? { ok: true, value: leases.value.items } : leases,
      leasesAt,
      events: events.ok ? { ok: true, value: events.value.items.slice(0, 10) } : events,
    };
  }

  private async request(): Promise<void> {
    clearError();
    announce("Requesting a server…");
    await this.track(async () => {
      const { data, status } = await okWithStatus(
        api.POST("/api/v1/guests", { params: { header: { "Idempotency-Key": idempotencyKey() } }, body: {} }),
      );
      if (status === 202 && "job" in data) {
        const name = data.guest;
        announce(`${name} is being made for you; this takes a moment…`);
        this.refresh();
        const job = await waitForJob(data.job.id, this.alive, (j) => {
          if (j.progress.total > 0) announce(`${name} is being made: ${j.progress.done} of ${j.progress.total} steps done…`);
        });
        if (!job || !this.alive()) return;
        if (job.status === "succeeded") announce(`${name} is ready.`);
        else showError(`${name} could not be made${job.error ? `: ${job.error}` : ` (${job.status})`}.`);
      } else if ("name" in data) {
        announce(`${data.name} is yours; its state shows below.`);
      }
    });
  }
}

const POWER_VERB: Record<"start" | "stop" | "restart", string> = {
  start: "Starting",
  stop: "Stopping",
  restart: "Restarting",
};

class ServerCard {
  readonly root: HTMLElement;
  private guest: Guest;
  private readonly facts: Record<string, HTMLElement> = {};
  private readonly autoBoot: HTMLInputElement;
  private readonly description: HTMLInputElement;
  private descriptionDirty = false;
  private readonly servicesBody: HTMLTableSectionElement;
  private readonly servicesTable: HTMLTableElement;
  private readonly servicesNote = el("p", { class: "muted", hidden: true });
  private readonly firewallHeading: HTMLElement;
  private readonly leasesBody: HTMLTableSectionElement;
  private readonly leasesTable: HTMLTableElement;
  private readonly leasesNote = el("p", { class: "muted" }, "No ports are open.");
  private readonly resetConfirm: HTMLInputElement;
  private readonly resetNewKey: HTMLInputElement;
  private readonly undo = el("div", { class: "undo", hidden: true });
  private readonly undoText = el("p");
  private readonly events = el("ol", { class: "events" });
  private readonly eventsNote = el("p", { class: "muted" }, "No events yet.");
  private readonly protocol: HTMLSelectElement | null = null;
  private portField: HTMLElement | null = null;
  private port: HTMLInputElement | HTMLSelectElement | null = null;
  private minutes: HTMLInputElement | null = null;
  private source: HTMLInputElement | null = null;

  constructor(
    guest: Guest,
    private readonly view: ServersView,
    private readonly policy: Policy | null,
  ) {
    this.guest = guest;
    const name = guest.name;
    const headingId = idFor("server", name);

    const dl = el("dl", { class: "facts" });
    for (const label of ["Host name", "Address", "State", "Description", "Root version", "SSH fingerprint", "Expires"]) {
      const dd = el("dd");
      this.facts[label] = dd;
      append(dl, el("div", null, el("dt", null, label), dd));
    }

    this.autoBoot = el("input", {
      type: "checkbox",
      id: idFor("autoboot", name),
      onchange: () => void this.saveAutoBoot(),
    });
    const power = el(
      "div",
      { class: "actions" },
      el(
        "div",
        { role: "group", "aria-label": "Power", class: "buttons" },
        (["start", "stop", "restart"] as const).map((a) =>
          button(a[0]!.toUpperCase() + a.slice(1), () => void this.power(a)),
        ),
      ),
      checkField("Boot automatically", this.autoBoot),
    );

    this.description = el("input", {
      type: "text",
      id: idFor("desc", name),
      maxlength: 500,
      autocomplete: "off",
      oninput: () => {
        this.descriptionDirty = true;
      },
    });
    const descriptionForm = form(
      { class: "inline" },
      () => void this.saveDescription(),
      field("Description", this.description),
      el("button", { type: "submit" }, "Save description"),
    );

    // The h4 above says "Services" already; the caption names the table.
    const services = table(
      "Services",
      ["Service", "Priority", "Command", "Start at boot", "State", { hidden: "Actions" }],
      true,
    );
    this.servicesBody = services.body;
    this.servicesTable = services.table;

    this.firewallHeading = el("h4", { tabindex: -1 }, "Firewall");
    const leases = table("Open ports", ["Port", "Source", "Closes", { hidden: "Actions" }]);
    this.leasesBody = leases.body;
    this.leasesTable = leases.table;
    this.leasesTable.hidden = true;

    let firewallForm: HTMLElement = el("p", { class: "muted" }, "The firewall policy could not be read.");
    const protocols = policy ? (["tcp", "udp"] as const).filter((p) => policy[p].length > 0) : [];
    if (policy && protocols.length === 0) {
      firewallForm = el("p", { class: "muted" }, "The firewall policy lets no port be opened.");
    } else if (policy) {
      this.protocol = el(
        "select",
        { id: idFor("proto", name), onchange: () => this.buildPort() },
        protocols.map((p) => el("option", { value: p }, p.toUpperCase())),
      );
      this.portField = el("div", { class: "field" });
      this.minutes = el("input", {
        type: "number",
        id: idFor("minutes", name),
        min: 1,
        max: policy.max_minutes,
        step: 1,
        value: policy.default_minutes,
        required: true,
        inputmode: "numeric",
      });
      this.source = el("input", {
        type: "text",
        id: idFor("source", name),
        autocomplete: "off",
        spellcheck: "false",
        inputmode: "decimal",
      });
      firewallForm = form(
        { class: "grid" },
        () => void this.openPort(),
        field("Protocol", this.protocol),
        this.portField,
        field("Minutes", this.minutes, { hint: `at most ${policy.max_minutes}` }),
        field("Source network", this.source, { hint: "leave empty for anyone" }),
        el("div", { class: "field submit" }, el("button", { type: "submit", class: "primary" }, "Open port")),
      );
      this.buildPort();
    }

    this.resetConfirm = el("input", {
      type: "text",
      id: idFor("confirm", name),
      autocomplete: "off",
      spellcheck: "false",
      autocapitalize: "characters",
    });
    this.resetNewKey = el("input", { type: "checkbox", id: idFor("newkey", name) });
    const resetForm = form(
      { class: "grid" },
      () => void this.reset(),
      field("Type the server's name to confirm", this.resetConfirm),
      checkField("New SSH host key", this.resetNewKey),
      el("div", { class: "field submit" }, el("button", { type: "submit", class: "danger" }, "Reset")),
    );
    append(this.undo, this.undoText, button("Undo reset", () => void this.undoReset()));

    this.root = el(
      "section",
      { class: "server", "aria-labelledby": headingId },
      el("h3", { id: headingId }, name),
      dl,
      power,
      descriptionForm,
      el("h4", null, "Services"),
      this.servicesNote,
      el("div", { class: "table-wrap" }, this.servicesTable),
      this.firewallHeading,
      firewallForm,
      this.leasesNote,
      el("div", { class: "table-wrap" }, this.leasesTable),
      el("h4", null, "Reset"),
      el(
        "p",
        { class: "muted" },
        "Puts a fresh copy of the image's disk in place of this server's; its name, address, open ports and settings stay.",
      ),
      resetForm,
      this.undo,
      el("h4", null, "Recent events"),
      this.eventsNote,
      this.events,
    );
  }

  update(guest: Guest, details: Details): void {
    this.guest = guest;
    const f = this.facts;
    setText(f["Host name"]!, guest.hostname);
    setText(f["Address"]!, guest.ip_address ?? "none yet");
    setText(f["State"]!, guest.state);
    f["State"]!.className = `state state-${guest.state}`;
    setText(f["Description"]!, guest.description);
    const root =
      guest.root_version == null
        ? `not booted yet (${guest.target_root_version} at first boot)`
        : guest.root_version === guest.target_root_version
          ? String(guest.root_version)
          : `${guest.root_version} (${guest.target_root_version} at next boot)`;
    setText(f["Root version"]!, root);
    setText(f["SSH fingerprint"]!, guest.ssh_host_key?.fingerprint ?? "not known yet");
    f["SSH fingerprint"]!.className = "wrap";
    const expires = f["Expires"]!;
    const exp = guest.expires_at ?? null;
    if (exp === null) {
      setText(expires, "never");
    } else if (expires.firstElementChild?.getAttribute("datetime") !== exp) {
      replace(expires, timeEl(exp));
    }
    if (document.activeElement !== this.autoBoot) this.autoBoot.checked = guest.auto_boot;
    if (!this.descriptionDirty && document.activeElement !== this.description) {
      this.description.value = guest.description;
    }

    const undo = guest.reset_undo_until ?? null;
    this.undo.hidden = undo === null;
    if (undo !== null && this.undoText.querySelector("time")?.getAttribute("datetime") !== undo) {
      replace(this.undoText, "The disk before the reset is kept until ", timeEl(undo), ".");
    }

    this.updateServices(details.services);
    this.updateLeases(details.leases, details.leasesAt);
    this.updateEvents(details.events);
  }

  // ---- services ----

  private updateServices(p: Part<GuestService[]>): void {
    if (!p.ok) {
      this.servicesNote.hidden = false;
      setText(this.servicesNote, `The services could not be read: ${p.detail}`);
      return;
    }
    this.servicesNote.hidden = p.value.length > 0;
    if (p.value.length === 0) setText(this.servicesNote, "No services.");
    this.servicesTable.hidden = p.value.length === 0;
    reconcile(
      this.servicesBody,
      p.value,
      (s) => s.name,
      (s) => this.serviceRow(s),
      (row, s) => {
        const cells = row.cells;
        setText(cells[1]!, String(s.priority));
        setText(cells[2]!.firstChild!, this.view.commands.get(s.name) ?? "");
        const box = cells[3]!.querySelector("input")!;
        if (box.dataset.saving !== "1") box.checked = s.enabled;
        setText(cells[4]!, s.state);
        cells[4]!.className = `svc svc-${s.state}`;
      },
    );
  }

  private serviceRow(s: GuestService): HTMLTableRowElement {
    const name = this.guest.name;
    const box = el("input", { type: "checkbox", id: idFor("svc", `${name}-${s.name}`), checked: s.enabled });
    box.addEventListener("change", () => void this.saveService(s.name, box));
    const result = el("span", { class: "result", "aria-live": "polite" });
    return el(
      "tr",
      null,
      el("th", { scope: "row", "data-label": "Service" }, s.name),
      cell("Priority"),
      cell("Command", el("code", { class: "wrap" })),
      cell("Start at boot", checkField("Start at boot", box, true)),
      cell("State"),
      cell("", button("Restart", () => void this.restartService(s.name, result)), result),
    );
  }

  private async saveService(service: string, box: HTMLInputElement): Promise<void> {
    const name = this.guest.name;
    const enabled = box.checked;
    box.dataset.saving = "1";
    clearError();
    try {
      await ok(
        api.PATCH("/api/v1/guests/{name}/services/{service}", {
          params: { path: { name, service } },
          body: { enabled },
        }),
      );
      announce(enabled ? `${service} will start at boot on ${name}.` : `${service} will not start at boot on ${name}.`);
    } catch (e) {
      box.checked = !enabled;
      fail(e);
    } finally {
      delete box.dataset.saving;
      this.view.refresh();
    }
  }

  private async restartService(service: string, result: HTMLElement): Promise<void> {
    const name = this.guest.name;
    clearError();
    setText(result, "restart requested…");
    await this.view.track(async () => {
      try {
        const started = await ok(
          api.POST("/api/v1/guests/{name}/services/{service}/actions", {
            params: { path: { name, service } },
            body: { action: "restart" },
          }),
        );
        const done = await waitForCommand(started.command_id, this.view.alive);
        if (!done) return;
        if (done.status === "succeeded") setText(result, "restart succeeded");
        else if (done.status === "failed") setText(result, `restart failed${done.result ? `: ${done.result}` : ""}`);
        else setText(result, `restart ${done.status}`);
      } catch (e) {
        setText(result, `restart failed: ${e instanceof Error ? e.message : String(e)}`);
        throw e;
      }
    });
  }

  // ---- power, description, boot ----

  private async power(action: PowerAction & keyof typeof POWER_VERB): Promise<void> {
    const name = this.guest.name;
    clearError();
    announce(`${POWER_VERB[action]} ${name}…`);
    await this.view.track(async () => {
      const started = await ok(
        api.POST("/api/v1/guests/{name}/power", { params: { path: { name } }, body: { action } }),
      );
      this.view.refresh();
      const done = await waitForCommand(started.command_id, this.view.alive);
      if (!done || !this.view.alive()) return;
      if (done.status === "succeeded") announce(`${name}: ${action} succeeded`);
      else showError(`${name}: ${action} failed${done.result ? `: ${done.result}` : ""}`);
    });
  }

  private async saveDescription(): Promise<void> {
    const name = this.guest.name;
    const description = this.description.value;
    clearError();
    try {
      const g = await ok(api.PATCH("/api/v1/guests/{name}", { params: { path: { name } }, body: { description } }));
      this.descriptionDirty = this.description.value !== g.description;
      setText(this.facts["Description"]!, g.description);
      announce(`The description of ${name} is saved.`);
    } catch (e) {
      fail(e);
    }
    this.view.refresh();
  }

  private async saveAutoBoot(): Promise<void> {
    const name = this.guest.name;
    const auto_boot = this.autoBoot.checked;
    clearError();
    try {
      await ok(api.PATCH("/api/v1/guests/{name}", { params: { path: { name } }, body: { auto_boot } }));
      announce(auto_boot ? `${name} boots automatically.` : `${name} does not boot automatically.`);
    } catch (e) {
      this.autoBoot.checked = !auto_boot;
      fail(e);
    }
    this.view.refresh();
  }

  // ---- firewall ----

  private buildPort(): void {
    const policy = this.policy;
    if (!policy || !this.protocol || !this.portField) return;
    const proto = (this.protocol.value || "tcp") as Protocol;
    const ranges = policy[proto];
    const id = idFor("port", this.guest.name);
    let count = 0;
    for (const r of ranges) count += Math.max(0, r.end - r.start + 1);
    let control: HTMLInputElement | HTMLSelectElement;
    let hint: string | undefined;
    if (count > 0 && count <= 12) {
      const ports: number[] = [];
      for (const r of ranges) for (let p = r.start; p <= r.end; p += 1) ports.push(p);
      control = el(
        "select",
        { id },
        ports.map((p) => el("option", { value: p }, String(p))),
      );
    } else {
      const min = Math.min(...ranges.map((r) => r.start), 65535);
      const max = Math.max(...ranges.map((r) => r.end), 1);
      control = el("input", { type: "number", id, min: Math.max(1, min), max, step: 1, required: true, inputmode: "numeric" });
      hint = `allowed: ${ranges.map((r) => (r.start === r.end ? `${r.start}` : `${r.start}–${r.end}`)).join(", ")}`;
    }
    this.port = control;
    const built = field("Port", control, { hint });
    replace(this.portField, ...Array.from(built.childNodes));
  }

  private async openPort(): Promise<void> {
    if (!this.protocol || !this.port || !this.minutes || !this.source) return;
    const name = this.guest.name;
    const protocol = this.protocol.value as Protocol;
    const port = Number(this.port.value);
    const minutes = this.minutes.value.trim() === "" ? null : Number(this.minutes.value);
    const source = this.source.value.trim();
    clearError();
    try {
      await ok(
        api.POST("/api/v1/guests/{name}/firewall/leases", {
          params: { path: { name }, header: { "Idempotency-Key": idempotencyKey() } },
          body: {
            protocol,
            port,
            duration_minutes: minutes,
            ...(source ? { source_cidr: source } : {}),
          },
        }),
      );
      announce(`${portLabel(protocol, port)} is open on ${name}.`);
    } catch (e) {
      fail(e);
    }
    this.view.refresh();
  }

  private updateLeases(p: Part<Lease[]>, at: number): void {
    if (!p.ok) {
      this.leasesNote.hidden = false;
      setText(this.leasesNote, `The open ports could not be read: ${p.detail}`);
      return;
    }
    setText(this.leasesNote, "No ports are open.");
    this.leasesNote.hidden = p.value.length > 0;
    this.leasesTable.hidden = p.value.length === 0;
    reconcile(
      this.leasesBody,
      p.value,
      (l) => String(l.id),
      (l) => this.leaseRow(l),
      (row, l) => this.updateLeaseRow(row, l, at),
      () => this.firewallHeading,
    );
  }

  private leaseRow(l: Lease): HTMLTableRowElement {
    const row: HTMLTableRowElement = el(
      "tr",
      null,
      el("th", { scope: "row", "data-label": "Port" }),
      cell("Source"),
      cell("Closes", el("span", { class: "countdown" })),
      cell(
        "",
        el(
          "div",
          { class: "buttons" },
          button("Close", () => void this.closeLease(l)),
          button("Renew", () => void this.renewLease(l, row)),
        ),
      ),
    );
    return row;
  }

  private updateLeaseRow(row: HTMLTableRowElement, l: Lease, at: number): void {
    setText(row.cells[0]!, portLabel(l.protocol, l.port));
    setText(row.cells[1]!, l.source_cidr ?? "anyone");
    const span = row.cells[2]!.firstElementChild as HTMLElement;
    span.title = new Date(l.expires_at).toLocaleString();
    countdown(span, l.remaining_seconds, at, () => this.view.refresh());
  }

  private async closeLease(l: Lease): Promise<void> {
    clearError();
    try {
      await ok(api.DELETE("/api/v1/firewall/leases/{id}", { params: { path: { id: l.id } } }));
      announce(`${portLabel(l.protocol, l.port)} on ${l.guest} is closed.`);
    } catch (e) {
      fail(e);
    }
    this.view.refresh();
  }

  private async renewLease(l: Lease, row: HTMLTableRowElement): Promise<void> {
    clearError();
    try {
      const renewed = await ok(
        api.POST("/api/v1/firewall/leases/{id}/renew", { params: { path: { id: l.id } }, body: {} }),
      );
      if (row.isConnected) this.updateLeaseRow(row, renewed, performance.now());
      announce(`${portLabel(l.protocol, l.port)} on ${l.guest} is renewed.`);
    } catch (e) {
      fail(e);
    }
    this.view.refresh();
  }

  // ---- reset ----

  private async reset(): Promise<void> {
    const name = this.guest.name;
    const typed = this.resetConfirm.value.trim();
    clearError();
    if (typed.toUpperCase() !== name.toUpperCase()) {
      showError(`Type the server's name, ${name}, to confirm the reset.`);
      return;
    }
    announce(`Resetting ${name}…`);
    await this.view.track(async () => {
      const job = await ok(
        api.POST("/api/v1/guests/{name}/reset", {
          params: { path: { name }, header: { "Idempotency-Key": idempotencyKey() } },
          body: { confirm: name, new_host_key: this.resetNewKey.checked },
        }),
      );
      this.resetConfirm.value = "";
      this.resetNewKey.checked = false;
      this.view.refresh();
      const done = await waitForJob(job.id, this.view.alive, () => this.view.refresh());
      if (!done || !this.view.alive()) return;
      if (done.status === "succeeded") announce(`${name} is reset.`);
      else showError(`The reset of ${name} ${done.status}${done.error ? `: ${done.error}` : ""}.`);
    });
  }

  private async undoReset(): Promise<void> {
    const name = this.guest.name;
    clearError();
    announce(`Undoing the reset of ${name}…`);
    await this.view.track(async () => {
      const job = await ok(
        api.POST("/api/v1/guests/{name}/reset/undo", {
          params: { path: { name }, header: { "Idempotency-Key": idempotencyKey() } },
        }),
      );
      this.view.refresh();
      const done = await waitForJob(job.id, this.view.alive, () => this.view.refresh());
      if (!done || !this.view.alive()) return;
      if (done.status === "succeeded") announce(`The reset of ${name} is undone.`);
      else showError(`Undoing the reset of ${name} ${done.status}${done.error ? `: ${done.error}` : ""}.`);
    });
  }

  // ---- events ----

  private updateEvents(p: Part<EventView[]>): void {
    if (!p.ok) {
      this.eventsNote.hidden = false;
      setText(this.eventsNote, `The events could not be read: ${p.detail}`);
      return;
    }
    setText(this.eventsNote, "No events yet.");
    this.eventsNote.hidden = p.value.length > 0;
    this.events.hidden = p.value.length === 0;
    reconcile(
      this.events,
      p.value,
      (e) => String(e.id),
      (e) =>
        el(
          "li",
          { class: `event outcome-${e.outcome}` },
          timeEl(e.at),
          " ",
          el("span", { class: "action" }, e.action),
          ` by ${e.actor}: ${e.outcome}`,
          e.detail ? ` — ${e.detail}` : "",
        ),
      () => {},
    );
  }
}
