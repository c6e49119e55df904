// Notifications: the feed of new and changed marks, homework, absences and parents' notices.
// The text of each comes from the catalog ("notify.KIND"), filled from its data.
import { api, el, fmt, navigation, pages, refreshUnread, show, state, t } from "./app.js";

navigation.push({ key: "nav.notifications", href: "/notifications", roles: null, unread: "notifications" });
pages.push({ path: /^\/notifications$/, view: notificationsView });

const ddmm = (s) => (s ? fmt.dayMonth(s) : "");

function text(n) {
  const d = n.data ?? {};
  // A kind whose words follow the person's grammatical gender (вошёл, вошла) has its texts
  // KIND.m and KIND.f beside KIND, chosen by data.gender.
  const gendered = d.gender && state.msg[`notify.${n.kind}.${d.gender}`] !== undefined;
  return t(gendered ? `notify.${n.kind}.${d.gender}` : `notify.${n.kind}`, {
    name: d.name ?? "", time: d.time ?? "", school: d.school ?? "",
    student: n.student?.name ?? "", subject: d.subject ?? "", value: d.value ?? "",
    old: d.old ?? "", date: ddmm(d.date), text: d.text ?? "", status: t(`attendance.${d.status}`),
    from: ddmm(d.from), to: ddmm(d.to), reason: d.reason ?? "", comment: d.comment ?? "",
    amount: fmt.money(d.amount), balance: fmt.money(d.balance), threshold: fmt.money(d.threshold),
  });
}

async function notificationsView() {
  const r = await api("GET", "/api/v1/notifications?limit=100");
  if (r.status !== 200) { show(el("p", { class: "error", text: t("app.error") })); return; }
  const items = r.data.items;
  const readAll = el("button", { type: "button", class: "secondary", id: "read-all", onclick: async () => {
    await api("POST", "/api/v1/notifications/read", { all: true });
    refreshUnread();
    notificationsView();
  }, text: t("notify.read_all") });
  show(
    el("h1", { text: t("notify.title") }),
    el("div", { class: "toolbar" }, el("span", { id: "unread", text: t("notify.unread", { count: r.data.unread }) }),
      r.data.unread ? readAll : null),
    items.length
      ? el("ul", { class: "card feed" }, items.map((n) => el("li", { class: n.read ? "read" : "unread", "data-kind": n.kind },
          el("span", { class: "when", text: fmt.when(n.created_at) }),
          el("span", { text: text(n) }))))
      : el("p", { class: "card", text: t("notify.empty") }));
}
