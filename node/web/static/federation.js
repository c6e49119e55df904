// The operator's view of the federation: at a region, the hub's library channel held, the
// reports waiting in the outbox and the schedule; at the hub, versions, regions and reports.
import { api, el, errorText, fmt, navigation, pages, show, t } from "./app.js";

navigation.push({ key: "nav.federation", href: "/federation", roles: ["admin", "operator"] });
pages.push({ path: /^\/federation$/, view: federationView });

function when(ts) {
  return ts ? fmt.when(ts) : t("federation.never");
}

function facts(pairs) {
  return el("dl", { class: "facts" }, pairs.flatMap(([k, v]) => [el("dt", { text: t(k) }),
    el("dd", { text: typeof v === "number" ? fmt.number(v, 0) : v == null || v === "" ? "—" : String(v) })]));
}

async function federationView() {
  const r = await api("GET", "/api/v1/federation/status");
  if (r.status !== 200) { show(el("p", { class: "error", text: errorText(r) })); return; }
  const s = r.data;
  const parts = [el("h1", { text: t("federation.title") }),
    facts([["federation.mode", t(`federation.mode.${s.mode}`)], ["federation.hub_url", s.hub_url || "—"],
      ["federation.enabled", t(s.enabled ? "federation.yes" : "federation.no")]])];
  if (s.hub) {
    parts.push(el("section", { class: "card", id: "federation-hub" }, facts([["federation.published", s.hub.channel_version],
      ["federation.regions", s.hub.regions_enrolled], ["federation.reports", s.hub.reports_received]])));
  } else {
    parts.push(
      el("section", { class: "card", id: "federation-channel" }, el("h2", { text: t("federation.channel") }),
        facts([["federation.version", s.channel.version], ["federation.imported", when(s.channel.imported_at)],
          ["federation.expires", when(s.channel.expires_at)]])),
      el("section", { class: "card", id: "federation-outbox" }, el("h2", { text: t("federation.outbox") }),
        facts([["federation.waiting", s.outbox.waiting], ["federation.sent", s.outbox.sent],
          ["federation.last_error", s.outbox.first_waiting?.last_error || "—"],
          ["federation.refused", s.outbox.refused],
          ...(s.outbox.last_refused ? [["federation.last_refused", t("federation.refused_report",
            { sequence: s.outbox.last_refused.sequence, error: s.outbox.last_refused.last_error })]] : [])])),
      el("section", { class: "card", id: "federation-schedule" }, el("h2", { text: t("federation.schedule") }),
        s.schedule ? facts([["federation.last_sync", when(s.schedule.last_sync_at)], ["federation.last_success", when(s.schedule.last_success_at)],
          ["federation.errors", s.schedule.errors], ["federation.last_error", s.schedule.last_error || "—"]])
          : el("p", { text: t("federation.off") })));
  }
  show(...parts);
}
