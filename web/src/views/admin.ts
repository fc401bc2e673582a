// "Administration": the pool, root versions with their rollouts' live
// progress, and every open port.
import { api, jobFinished, ok, type JobView, type Lease, type Schema } from "../api.js";
import { countdown } from "../countdown.js";
import { append, el, field, form, reconcile, replace, setText, timeEl } from "../dom.js";
import { announce, clearError, current, currentGeneration, fail, Refresher } from "../ui.js";
import { cell, portLabel, table } from "./servers.js";
import type { View } from "./view.js";

type Image = Schema<"Image">;
type RootVersion = Schema<"RootVersion">;
type PoolView = Schema<"PoolView">;
type CopyMethod = Schema<"PoolCopyMethod">;

interface ImageInfo {
  image: Image;
  versions: RootVersion[];
  rollouts: JobView[];
}

export class AdminView implements View {
  readonly heading = el("h2", { id: "view-heading", tabindex: -1 }, "Administration");
  readonly root: HTMLElement;
  private readonly poolFacts: Record<string, HTMLElement> = {};
  private readonly target = el("input", {
    type: "number",
    id: "pool-target",
    min: 0,
    max: 10000,
    step: 1,
    required: true,
    inputmode: "numeric",
  });
  private readonly method = el(
    "select",
    { id: "pool-method" },
    el("option", { value: "flashcopy" }, "flashcopy"),
    el("option", { value: "ddr" }, "ddr"),
  );
  private poolDirty = false;
  private readonly images = el("div", { class: "images" });
  private readonly imagesNote = el("p", { class: "muted", hidden: true }, "No images.");
  private readonly leasesBody: HTMLTableSectionElement;
  private readonly leasesTable: HTMLTableElement;
  private readonly leasesNote = el("p", { class: "muted" }, "No ports are open.");
  private readonly leasesHeading = el("h3", { tabindex: -1 }, "Open ports");
  private readonly refresher = new Refresher(() => this.load());
  private readonly gen = currentGeneration();
  private stopped = false;

  constructor() {
    const poolDl = el("dl", { class: "facts" });
    for (const label of ["Target size", "Available", "Provisioning", "Copy method"]) {
      const dd = el("dd", null, "…");
      this.poolFacts[label] = dd;
      append(poolDl, el("div", null, el("dt", null, label), dd));
    }
    const dirty = (): void => {
      this.poolDirty = true;
    };
    this.target.addEventListener("input", dirty);
    this.method.addEventListener("change", dirty);
    // The h3 above says "Open ports" already; the caption names the table.
    const leases = table("Open ports", ["Server", "Port", "Source", "Opened by", "Closes"], true);
    this.leasesBody = leases.body;
    this.leasesTable = leases.table;
    this.leasesTable.hidden = true;
    this.root = el(
      "div",
      { class: "view" },
      this.heading,
      el(
        "section",
        { class: "panel", "aria-labelledby": "admin-pool" },
        el("h3", { id: "admin-pool" }, "Pool"),
        poolDl,
        form(
          { class: "grid" },
          () => void this.savePool(),
          field("Target size", this.target),
          field("Copy method", this.method),
          el("div", { class: "field submit" }, el("button", { type: "submit", class: "primary" }, "Save pool")),
        ),
      ),
      el(
        "section",
        { class: "panel", "aria-labelledby": "admin-roots" },
        el("h3", { id: "admin-roots" }, "Root versions"),
        this.imagesNote,
        this.images,
      ),
      el(
        "section",
        { class: "panel", "aria-labelledby": "admin-leases" },
        this.leasesHeading,
        this.leasesNote,
        el("div", { class: "table-wrap" }, this.leasesTable),
      ),
    );
    this.leasesHeading.id = "admin-leases";
    this.refresher.now();
  }

  refresh(): void {
    this.refresher.now();
  }

  unmount(): void {
    this.stopped = true;
    this.refresher.stop();
  }

  private async load(): Promise<void> {
    const [pool, images, jobs, leases] = await Promise.all([
      ok(api.GET("/api/v1/pool")),
      ok(api.GET("/api/v1/images", { params: { query: { limit: 100 } } })),
      ok(api.GET("/api/v1/jobs", { params: { query: { limit: 100 } } })),
      ok(api.GET("/api/v1/firewall/leases", { params: { query: { limit: 500 } } })),
    ]);
    const leasesAt = performance.now();
    const versions = await Promise.all(
      images.items.map((i) =>
        ok(api.GET("/api/v1/images/{name}/versions", { params: { path: { name: i.name }, query: { limit: 100 } } })),
      ),
    );
    if (this.stopped || !current(this.gen)) return;

    this.showPool(pool);

    const rollouts = jobs.items.filter((j) => j.kind === "rollout");
    const infos: ImageInfo[] = images.items.map((image, i) => {
      const mine = rollouts.filter((j) => j.target === image.name);
      // Those under way, and the last one that finished (so its end shows).
      const running = mine.filter((j) => !jobFinished(j.status));
      const last = mine.find((j) => jobFinished(j.status));
      return { image, versions: versions[i]!.items, rollouts: last ? [...running, last] : running };
    });
    this.imagesNote.hidden = infos.length > 0;
    reconcile(
      this.images,
      infos,
      (info) => info.image.name,
      () => el("div", { class: "image" }),
      (node, info) => this.showImage(node, info),
    );

    this.leasesNote.hidden = leases.items.length > 0;
    this.leasesTable.hidden = leases.items.length === 0;
    reconcile(
      this.leasesBody,
      leases.items,
      (l) => String(l.id),
      () =>
        el(
          "tr",
          null,
          el("th", { scope: "row", "data-label": "Server" }),
          cell("Port"),
          cell("Source"),
          cell("Opened by"),
          cell("Closes", el("span", { class: "countdown" })),
        ),
      (row, l: Lease) => {
        setText(row.cells[0]!, l.guest);
        setText(row.cells[1]!, portLabel(l.protocol, l.port));
        setText(row.cells[2]!, l.source_cidr ?? "anyone");
        setText(row.cells[3]!, l.opened_by ?? "");
        countdown(row.cells[4]!.firstElementChild as HTMLElement, l.remaining_seconds, leasesAt, () => this.refresh());
      },
      () => this.leasesHeading,
    );

    if (rollouts.some((j) => !jobFinished(j.status))) this.refresher.after(500);
  }

  private showPool(pool: PoolView): void {
    setText(this.poolFacts["Target size"]!, String(pool.target_size));
    setText(this.poolFacts["Available"]!, String(pool.available));
    setText(this.poolFacts["Provisioning"]!, String(pool.provisioning));
    setText(this.poolFacts["Copy method"]!, pool.copy_method);
    const focused = document.activeElement === this.target || document.activeElement === this.method;
    if (!this.poolDirty && !focused) {
      this.target.value = String(pool.target_size);
      this.method.value = pool.copy_method;
    }
  }

  private async savePool(): Promise<void> {
    clearError();
    const target_size = Number(this.target.value);
    const copy_method = this.method.value as CopyMethod;
    try {
      const pool = await ok(api.PUT("/api/v1/pool", { body: { target_size, copy_method } }));
      this.poolDirty = false;
      this.showPool(pool);
      announce(`The pool is saved: ${pool.target_size} servers, ${pool.copy_method}.`);
    } catch (e) {
      fail(e);
    }
    this.refresh();
  }

  private showImage(node: HTMLElement, info: ImageInfo): void {
    const { image, versions, rollouts } = info;
    const t = table(`Versions of ${image.name}`, ["Version", "Label", "State", "Servers", "Published"]);
    for (const v of versions) {
      append(
        t.body,
        el(
          "tr",
          { class: v.version === image.root_version ? "current" : null },
          el(
            "th",
            { scope: "row", "data-label": "Version" },
            String(v.version),
            v.version === image.root_version ? " (new servers)" : "",
          ),
          cell("Label", v.label),
          cell("State", v.state),
          cell("Servers", String(v.guests)),
          cell("Published", timeEl(v.created_at)),
        ),
      );
    }
    const list = el("ul", { class: "rollouts" });
    for (const j of rollouts) {
      const r = (j.result ?? {}) as { updated?: number; rolled_back?: number; pending?: number };
      const counts =
        r.updated !== undefined
          ? `; ${r.updated} updated, ${r.rolled_back ?? 0} rolled back, ${r.pending ?? 0} pending`
          : "";
      append(
        list,
        el(
          "li",
          { class: `rollout job-${j.status}` },
          `Rollout (job ${j.id}): ${j.status}, ${j.progress.done} of ${j.progress.total} servers${counts}`,
          j.error ? ` — ${j.error}` : "",
          el("progress", {
            max: Math.max(1, j.progress.total),
            value: j.progress.done,
            "aria-label": `Rollout ${j.id} progress`,
          }),
        ),
      );
    }
    replace(
      node,
      el("h4", null, image.name),
      el(
        "p",
        null,
        `New servers boot version ${image.root_version}; the latest is ${image.latest_version}. `,
        image.description,
      ),
      el("div", { class: "table-wrap" }, t.table),
      rollouts.length ? list : el("p", { class: "muted" }, "No rollouts."),
    );
  }
}

