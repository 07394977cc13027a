// The dashboard: GET /v1/metrics over a chosen range, as figures and as charts by day (Chart.js).
import { api } from "../api.js";
import { t } from "../i18n.js";
import { h, mount, field, formError, values, clearErrors, showProblem, money, number, percentBps, major } from "../ui.js";

async function chartClass() {
  return (await import("../charts.js")).Chart;
}

// Dates are local to the time zone the metrics count days in (the answer's time_zone; Asia/Shanghai by default).
let zone = "Asia/Shanghai";

function isoDate(d) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(d);
}

function daysBefore(n) {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() - n);
  return isoDate(d);
}

export async function dashboardPage(main) {
  const program = await api("GET", "/v1/program").catch(() => ({}));
  const currency = program.currency || "CNY";
  const figures = h("div", { "aria-live": "polite" });
  const charts = h("div", { class: "grid" });
  const form = h("form", { class: "card", "aria-label": t("dash.range"), onsubmit: (event) => {
    event.preventDefault();
    const { from, to } = values(form);
    load(from, to);
  } },
  h("div", { class: "row" },
    field({ name: "from", label: t("dash.from"), type: "date", value: daysBefore(29) }),
    field({ name: "to", label: t("dash.to"), type: "date", value: isoDate(new Date()) }),
    h("button", { type: "submit" }, t("dash.show")),
    ...[7, 30, 90].map((n) => h("button", { type: "button", class: "secondary", onclick: () => {
      form.querySelector("[name=from]").value = daysBefore(n - 1);
      form.querySelector("[name=to]").value = isoDate(new Date());
      form.requestSubmit();
    } }, t("dash.last", { n })))),
  formError());
  mount(main, h("h1", {}, t("dash.title")), form, figures, charts);
  let drawn = [];

  async function load(from, to) {
    clearErrors(form);
    let m;
    try {
      m = await api("GET", `/v1/metrics?${new URLSearchParams(from && to ? { from, to } : {})}`);
    } catch (e) {
      return showProblem(form, e);
    }
    zone = m.time_zone || zone;
    if (m.by_day.length) {
      form.querySelector("[name=from]").value = m.by_day[0].date;
      form.querySelector("[name=to]").value = m.by_day[m.by_day.length - 1].date;
    }
    const cards = [
      ["members", t("dash.members"), number(m.members.total)],
      ["new_members", t("dash.new_members"), number(m.members.new)],
      ["purchases", t("dash.purchases"), number(m.purchases.count)],
      ["buyers", t("dash.buyers"), number(m.purchases.buyers)],
      ["revenue", t("dash.revenue"), money(m.purchases.revenue_minor, currency)],
      ["repeat", t("dash.repeat"), percentBps(m.repeat_purchase_rate_bps)],
      ["referred", t("dash.referred"), percentBps(m.referred_revenue_share_bps)],
      ["outstanding", t("dash.outstanding"), number(m.points.outstanding)],
      ["issued", t("dash.issued"), number(m.points.issued)],
      ["redeemed", t("dash.redeemed"), number(m.points.redeemed)],
      ...(m.points.expired !== undefined ? [["expired", t("dash.expired"), number(m.points.expired)]] : []),
      ...(m.stored_value ? [["stored_value", t("dash.stored_value"),
        money(m.stored_value.outstanding_principal_minor + m.stored_value.outstanding_bonus_minor, currency)]] : []),
    ];
    mount(figures, h("div", { class: "stats" }, cards.map(([name, label, value]) =>
      h("div", { class: "stat", "data-metric": name }, h("div", { class: "label" }, label), h("div", { class: "value" }, value)))));
    for (const chart of drawn) chart.destroy();
    const days = m.by_day.map((d) => d.date);
    const specs = [
      ["purchases", t("dash.chart.purchases"), "bar", m.by_day.map((d) => d.purchases)],
      ["revenue", t("dash.chart.revenue"), "line", m.by_day.map((d) => Number(major(d.revenue_minor, currency)))],
      ["new_members", t("dash.chart.new_members"), "bar", m.by_day.map((d) => d.new_members)],
    ];
    mount(charts);
    const Chart = await chartClass();
    drawn = specs.map(([name, label, type, data]) => {
      const canvas = h("canvas", { role: "img", "aria-label": t("dash.chart.aria", { what: label, from, to }) });
      charts.append(h("section", { class: "card", "data-chart": name }, h("h2", {}, label), h("div", { class: "chart" }, canvas),
        h("details", {}, h("summary", {}, t("dash.table")), h("div", { class: "scroll", tabindex: 0 }, h("table", {},
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("dash.day")), h("th", { scope: "col", class: "num" }, label))),
          h("tbody", {}, days.map((day, i) => h("tr", {}, h("td", {}, day), h("td", { class: "num" }, String(data[i]))))))))));
      return new Chart(canvas, {
        type, data: { labels: days, datasets: [{ label, data, backgroundColor: "#0b57d0", borderColor: "#0b57d0" }] },
        options: { responsive: true, maintainAspectRatio: false, animation: false, plugins: { legend: { display: false } },
          scales: { y: { beginAtZero: true } } },
      });
    });
  }
  load("", ""); // the service's default period (the 30 days to today, in its time zone)
}
