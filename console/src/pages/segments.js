// Segments (staff): the grid of members per class (A–D, by 12-month spend rank) and grade (1–3, by recency), shaded by
// how many each cell holds; a cell opens its members, a page at a time (docs/segments.md).
import { api } from "../api.js";
import { t, addWords } from "../i18n.js";
import { h, mount, busy, when, number } from "../ui.js";
import { WORDS } from "./segments.words.js";

addWords(WORDS);

const PAGE = 50;
const CLASSES = ["A", "B", "C", "D"];
const GRADES = [1, 2, 3];

export async function segmentsPage(main) {
  mount(main, h("p", { class: "muted" }, t("loading")));
  let grid;
  try {
    grid = await api("GET", "/v1/segments");
  } catch (e) {
    return mount(main, h("p", { class: "error", role: "alert" }, e.problem?.detail || e.problem?.title || e.message));
  }
  const list = h("section", { "aria-live": "polite", "data-cell-members": "" });
  const most = Math.max(1, ...Object.values(grid.counts));
  const table = h("table", { class: "segments", "data-grid": "" },
    h("caption", {}, t("sg.grid")),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, `${t("sg.class")} \\ ${t("sg.grade")}`),
      GRADES.map((g) => h("th", { scope: "col" }, t(`sg.grade.${g}`))))),
    h("tbody", {}, CLASSES.map((k) => h("tr", {}, h("th", { scope: "row" }, t(`sg.class.${k}`)),
      GRADES.map((g) => {
        const cell = `${k}${g}`;
        const n = grid.counts[cell] || 0;
        const shade = Math.round(4 + 36 * (n / most));  // a heat map: the fuller, the darker (dark text stays readable)
        return h("td", {}, h("button", { type: "button", class: "cell", "data-cell": cell, "data-count": n,
          style: `background: color-mix(in srgb, var(--accent, #2f6fdf) ${shade}%, transparent)`,
          title: t("sg.cell", { cell, n: number(n) }), onclick: () => open(cell) },
        h("strong", {}, cell), h("span", {}, number(n))));
      })))));
  mount(main, h("h1", {}, t("sg.title")), h("p", { class: "hint" }, t("sg.intro")),
    h("p", { class: "muted", "data-total": grid.total },
      `${t("sg.total", { n: number(grid.total) })} · ${grid.computed_at ? t("sg.as.of", { at: when(grid.computed_at) }) : t("sg.never")}`),
    h("div", { class: "table-wrap" }, table), list);

  async function open(cell, cursor = null) {
    for (const b of table.querySelectorAll("[data-cell]")) b.setAttribute("aria-pressed", b.dataset.cell === cell ? "true" : "false");
    let page;
    try {
      page = await api("GET", `/v1/segments/${cell}/members?${new URLSearchParams({ limit: PAGE, ...(cursor ? { cursor } : {}) })}`);
    } catch (e) {
      return mount(list, h("p", { class: "error", role: "alert" }, e.problem?.detail || e.problem?.title || e.message));
    }
    if (!cursor) {
      mount(list, h("h2", {}, t("sg.members", { cell })));
      if (!page.items.length) return list.append(h("p", { class: "muted", "data-empty": cell }, t("sg.none", { cell })));
      list.append(h("ul", { class: "plain", "data-members": cell }));
    }
    list.querySelector("[data-members]").append(...page.items.map((m) => h("li", { "data-member": m.member_id },
      h("a", { href: `#/member/${encodeURIComponent(m.member_id)}` }, m.member_id),
      m.source === "manual" ? h("span", { class: "badge muted", "data-manual": "" }, ` ${t("sg.manual")}`) : null)));
    list.querySelector("[data-action=more]")?.remove();
    if (page.next_cursor) {
      list.append(h("button", { type: "button", class: "secondary", "data-action": "more", onclick: (event) => {
        busy(event.currentTarget, true);
        open(cell, page.next_cursor);
      } }, t("sg.more")));
    }
    return undefined;
  }
  return undefined;
}
