// Accounts for everyone: activating an account with the code of a letter (/activate, public),
// one's own password and sessions (/account), finding accounts and acting on them
// (/admin/accounts, admins), and a class's printable activation letters
// (/admin/classes/{id}/letters: its class teacher, the school admin, the region admin).
// Server errors become texts of the catalog through the shell's errorText (error.CODE[.FIELD],
// "accounts.error.CODE" where this page's text differs), shown beside the field they name.
import { api, clearErrors, el, errorText as shellErrorText, field as shellField, fmt, go, navigation, pages, section,
  show, showError, state, t } from "./app.js";

navigation.push(
  { key: "accounts.nav_admin", href: "/admin/accounts", roles: ["admin", "school_admin"] },
  { key: "accounts.nav_letters", roles: ["class_teacher"],
    href: (me) => (me.classes && me.classes.length ? `/admin/classes/${me.classes[0].id}/letters` : "/account") },
);

pages.push(
  { path: /^\/activate$/, view: activateView, public: true },
  { path: /^\/account$/, view: accountView },
  { path: /^\/admin\/accounts$/, view: adminAccountsView },
  { path: /^\/admin\/classes\/(\d+)\/letters$/, view: lettersView },
);

// A date (seconds since the epoch) as «5 декабря 2026 г.», an instant with its time.
const day = (s) => fmt.day(s);
const when = (s) => fmt.when(s);

// The shell's text for a failed answer, with this page's own texts ("accounts.error.CODE"),
// and the wait of a throttled one in minutes.
function errorText(r) {
  if (r.status === 429) return t("accounts.error.throttled", { n: Math.ceil((Number(r.headers?.get("Retry-After")) || 60) / 60) });
  return shellErrorText(r, "accounts.error");
}

// A labelled input (the shell's field()) named as the server's field `name`, with its own
// error line (#ID-error).
function field(id, labelKey, attrs = {}, name = id) {
  const input = el("input", { id, name, ...attrs });
  const node = shellField(labelKey, input, name);
  return { input, error: node.querySelector(".field-error"), node };
}

// A refused form: the text beside the field the server names, else in `general`.
function failed(r, form, general) {
  if (r.status === 429) { clearErrors(form, general); general.textContent = errorText(r); }
  else showError(r, form, general, "accounts.error");
}

// ---- /activate ------------------------------------------------------------------------------

function activateView() {
  const q = new URLSearchParams(location.search);
  const login = field("act-login", "accounts.login", { autocomplete: "username", value: q.get("login") ?? "" }, "login");
  const code = field("act-code", "accounts.code", { autocomplete: "one-time-code", value: q.get("code") ?? "",
    placeholder: "XXXX-XXXX-XXXX", autocapitalize: "characters", spellcheck: "false" }, "code");
  const pw = field("act-password", "accounts.new_password", { type: "password", autocomplete: "new-password" }, "password");
  const pw2 = field("act-password2", "accounts.new_password2", { type: "password", autocomplete: "new-password" }, "password2");
  const general = el("p", { class: "error", id: "act-error", role: "alert" });
  const submit = el("button", { type: "submit", text: t("accounts.activate_submit") });
  const all = [login, code, pw, pw2];
  const form = el("form", { class: "card login activate", onsubmit: async (ev) => {
    ev.preventDefault();
    clearErrors(form, general);
    let bad = false;
    for (const f of all) if (!f.input.value) { f.error.textContent = t("accounts.error.required"); bad = true; }
    if (!bad && pw.input.value !== pw2.input.value) { pw2.error.textContent = t("accounts.error.mismatch"); bad = true; }
    if (bad) return;
    submit.disabled = true;
    const r = await api("POST", "/api/v1/auth/activate",
      { login: login.input.value.trim(), code: code.input.value.trim(), password: pw.input.value });
    submit.disabled = false;
    if (r.status === 200) {
      state.csrf = r.data.csrf_token;
      sessionStorage.setItem("mes.csrf", state.csrf);
      const me = await api("GET", "/api/v1/me");
      if (me.status === 200) state.me = me.data;
      go("/home", true);
      return;
    }
    failed(r, form, general);
  } },
    el("h1", { text: t("accounts.activate_title") }),
    el("p", { class: "muted", text: t("accounts.activate_intro") }),
    login.node, code.node, pw.node,
    el("p", { class: "muted small-note", text: t("accounts.password_rules") }),
    pw2.node, general, submit,
    el("a", { href: "/login", "data-link": "", text: t("accounts.to_login") }));
  show(form);
  (login.input.value ? code.input : login.input).focus();
}

// ---- /account -------------------------------------------------------------------------------

async function accountView() {
  const cur = field("pw-current", "accounts.current_password", { type: "password", autocomplete: "current-password" }, "current");
  const pw = field("pw-new", "accounts.new_password", { type: "password", autocomplete: "new-password" }, "password");
  const pw2 = field("pw-new2", "accounts.new_password2", { type: "password", autocomplete: "new-password" }, "password2");
  const status = el("p", { id: "pw-status", role: "status" });
  const form = el("form", { class: "card password-form", onsubmit: async (ev) => {
    ev.preventDefault();
    clearErrors(form, status);
    let bad = false;
    for (const f of [cur, pw, pw2]) if (!f.input.value) { f.error.textContent = t("accounts.error.required"); bad = true; }
    if (!bad && pw.input.value !== pw2.input.value) { pw2.error.textContent = t("accounts.error.mismatch"); bad = true; }
    if (bad) return;
    const r = await api("POST", "/api/v1/account/password", { current: cur.input.value, password: pw.input.value });
    if (r.status === 200) {
      form.reset();
      status.textContent = t("accounts.password_changed", { n: r.data.sessions_ended });
      loadSessions();
      return;
    }
    failed(r, form, status);
  } },
    el("h2", { text: t("accounts.change_password") }),
    cur.node, pw.node, el("p", { class: "muted", text: t("accounts.password_rules") }), pw2.node,
    el("button", { type: "submit", id: "pw-submit", text: t("accounts.change_password_submit") }), status);
  const list = el("ul", { class: "sessions", id: "sessions" });
  const everywhere = el("button", { type: "button", id: "logout-everywhere", class: "secondary", onclick: async () => {
    const r = await api("POST", "/api/v1/account/logout-everywhere", {});
    if (r.status !== 200) return;
    state.me = null;
    state.csrf = null;
    sessionStorage.removeItem("mes.csrf");
    go("/login", true);
  }, text: t("accounts.logout_everywhere") });
  async function loadSessions() {
    const r = await api("GET", "/api/v1/account/sessions");
    if (r.status !== 200) { list.replaceChildren(el("li", { class: "error", text: t("app.error") })); return; }
    list.replaceChildren(...r.data.items.map((s) => el("li", { class: s.current ? "session current" : "session" },
      el("span", { text: t("accounts.session_line", { created: when(s.created_at), address: s.address || "—" }) }),
      s.current ? el("strong", { class: "this-session", text: t("accounts.this_session") })
        : el("button", { type: "button", class: "secondary end-session", onclick: async () => {
            const e = await api("POST", "/api/v1/account/sessions/end", { id: s.id });
            if (e.status === 200) loadSessions();
          }, text: t("accounts.end_session") }))));
  }
  show(
    el("h1", { text: t("accounts.account_title") }),
    el("p", {}, `${t("accounts.login")}: `, el("strong", { id: "my-login", translate: "no", text: state.me.login ?? "" })),
    form,
    section("accounts.sessions_title", list, everywhere));
  await loadSessions();
}

// ---- /admin/accounts ------------------------------------------------------------------------

const RELATIONS = ["mother", "father", "parent", "guardian"];

async function adminAccountsView() {
  const params = new URLSearchParams(location.search);
  const q = el("input", { type: "search", id: "acc-q", name: "q", placeholder: t("accounts.search_placeholder"),
    "aria-label": t("accounts.search_placeholder"), value: params.get("q") ?? "" });
  const st = el("select", { id: "acc-state", "aria-label": t("accounts.state_label") },
    ["", "inactive", "active", "disabled"].map((s) => el("option", { value: s, text: t(s ? `accounts.state.${s}` : "accounts.state_any") })));
  const results = el("ul", { class: "accounts", id: "acc-results" });
  const more = el("button", { type: "button", class: "secondary", id: "acc-more", text: t("accounts.more") });
  more.style.display = "none";
  let offset = 0;
  async function search(reset) {
    if (reset) { offset = 0; results.replaceChildren(); }
    const u = new URLSearchParams({ q: q.value.trim(), state: st.value, limit: "30", offset: String(offset) });
    // ?class= and ?institution= (the school pages' links) as well as the API's own names.
    for (const [k, p] of [["institution_id", "institution_id"], ["institution_id", "institution"], ["class_id", "class_id"], ["class_id", "class"]])
      if (params.get(p)) u.set(k, params.get(p));
    // Region-wide, the page waits for a name or login instead of listing a million people.
    const r = !q.value.trim() && !u.has("institution_id") && !u.has("class_id") && state.me.roles.includes("admin")
      ? { status: 400, data: { error: { code: "q_required" } } }
      : await api("GET", `/api/v1/accounts?${u}`);
    if (r.status !== 200) {
      // Region-wide, the page waits for a name or login instead of listing a million people.
      const cls = r.data?.error?.code === "q_required" ? "muted" : "error";
      results.replaceChildren(el("li", { class: cls, text: errorText(r) }));
      more.style.display = "none";
      return;
    }
    if (reset && !r.data.items.length) results.append(el("li", { class: "muted", text: t("accounts.nothing_found") }));
    for (const p of r.data.items) results.append(personItem(p, () => search(true)));
    offset = r.data.next_offset ?? offset;
    more.style.display = r.data.next_offset == null ? "none" : "";
  }
  more.addEventListener("click", () => search(false));
  show(
    el("h1", { text: t("accounts.admin_title") }),
    el("form", { class: "card toolbar acc-search", onsubmit: (ev) => { ev.preventDefault(); search(true); } },
      q, st, el("button", { type: "submit", text: t("accounts.search") })),
    results, more);
  await search(true);
}

// One found person: who, where, the account's state, its actions and a student's guardians.
function personItem(p, refresh) {
  const out = el("div", { class: "acc-result", role: "status" });
  const where = [p.class?.name, p.institution?.name].filter(Boolean).join(" · ");
  const roles = (p.roles ?? []).map((r) => t(`role.${r}`)).join(", ");
  const act = async (path, done) => {
    const r = await api("POST", path, {});
    out.textContent = "";
    if (r.status === 200) done(r.data); else out.textContent = errorText(r);
  };
  const buttons = [];
  if (p.account_id) {
    buttons.push(el("button", { type: "button", class: "secondary acc-reset", onclick: () => act(`/api/v1/accounts/${p.account_id}/reset`,
      (d) => out.replaceChildren(codeNote(d))), text: t("accounts.reset") }));
    if (p.state === "disabled")
      buttons.push(el("button", { type: "button", class: "secondary acc-enable", onclick: () => act(`/api/v1/accounts/${p.account_id}/enable`, refresh), text: t("accounts.enable") }));
    else
      buttons.push(el("button", { type: "button", class: "secondary acc-disable", onclick: () => act(`/api/v1/accounts/${p.account_id}/disable`, refresh), text: t("accounts.disable") }));
  }
  const li = el("li", { class: "card acc-person", "data-person": String(p.person_id) },
    el("div", { class: "acc-head" },
      el("strong", { class: "acc-name", text: p.name }),
      el("span", { class: `acc-state state-${p.state}`, text: t(`accounts.state.${p.state}`) })),
    el("div", { class: "muted" },
      p.login ? `${t("accounts.login")}: ` : "", p.login ? el("code", { class: "acc-login", text: p.login }) : null,
      [p.login ? "" : null, roles || null, where || null].filter((x) => x != null).join(" · ")),
    buttons.length ? el("div", { class: "acc-actions" }, buttons) : null,
    out);
  if (p.student) li.append(guardianLinks(p, refresh));
  else if (p.children?.length)
    li.append(el("p", { class: "muted" }, `${t("accounts.children")}: `, p.children.map((c) => c.name).join(", ")));
  return li;
}

function codeNote(d) {
  return el("p", { class: "acc-code" }, t("accounts.reset_done", { login: d.login }), " ",
    el("code", { class: "code", text: d.code }), " ", t("accounts.valid_until", { date: day(d.expires_at) }));
}

function guardianLinks(p, refresh) {
  const status = el("p", { class: "error", role: "alert" });
  const login = el("input", { name: "guardian-login", placeholder: t("accounts.guardian_login"), "aria-label": t("accounts.guardian_login") });
  const rel = el("select", { name: "relation", "aria-label": t("accounts.relation") },
    RELATIONS.map((r) => el("option", { value: r, text: t(`relation.${r}`) })));
  return el("div", { class: "acc-guardians" },
    el("p", { class: "muted", text: t("accounts.guardians") }),
    el("ul", {}, (p.guardians ?? []).map((g) => el("li", {},
      `${g.name} (${t(`relation.${g.relation}`)}) `,
      el("button", { type: "button", class: "secondary unlink", onclick: async () => {
        const r = await api("DELETE", `/api/v1/students/${p.person_id}/guardians/${g.id}`);
        if (r.status === 200) refresh(); else status.textContent = errorText(r);
      }, text: t("accounts.unlink") })))),
    el("form", { class: "toolbar link-form", onsubmit: async (ev) => {
      ev.preventDefault();
      status.textContent = "";
      const f = await api("GET", `/api/v1/accounts?q=${encodeURIComponent(login.value.trim())}&limit=5`);
      const g = f.status === 200 ? f.data.items.find((x) => x.login.toLowerCase() === login.value.trim().toLowerCase()) : null;
      if (!g) { status.textContent = t("accounts.error.no_such_login"); return; }
      const r = await api("POST", "/api/v1/guardians", { guardian_id: g.person_id, student_id: p.person_id, relation: rel.value });
      if (r.status === 201) refresh(); else status.textContent = errorText(r);
    } }, login, rel, el("button", { type: "submit", class: "secondary", text: t("accounts.link") })),
    status);
}

// ---- /admin/classes/{id}/letters ------------------------------------------------------------

async function lettersView(id) {
  const r = await api("GET", `/api/v1/classes/${id}/letters`);
  if (r.status !== 200) {
    show(el("p", { class: "error", id: "letters-error",
      text: t(r.status === 403 ? "accounts.letters_forbidden" : r.status === 404 ? "app.not_found" : "app.error") }));
    return;
  }
  const c = r.data;
  const waiting = c.items.filter((p) => p.state === "none" || p.state === "inactive").length;
  const all = el("input", { type: "checkbox", id: "letters-all" });
  const status = el("p", { class: "error", role: "alert" });
  const make = el("button", { type: "button", id: "letters-make", onclick: async () => {
    make.disabled = true;
    const m = await api("POST", `/api/v1/classes/${id}/letters`, { all: all.checked });
    make.disabled = false;
    if (m.status === 200) showLetters(m.data); else status.textContent = errorText(m);
  }, text: t("accounts.letters_make") });
  show(
    el("h1", { text: t("accounts.letters_title", { class: c.class.name, school: c.institution.name }) }),
    el("section", { class: "card no-print" },
      el("p", { id: "letters-summary", text: t("accounts.letters_summary", { n: c.items.length, waiting }) }),
      el("p", { class: "muted", text: t("accounts.letters_once") }),
      el("label", { class: "check" }, all, " ", t("accounts.letters_all")),
      el("div", { class: "toolbar" }, make), status),
    el("ul", { class: "letters-people no-print" }, c.items.map((p) => el("li", {},
      p.name, " · ", t(p.role === "parent" ? "accounts.role_parent_of" : "accounts.role_student", { student: p.student?.name ?? "" }),
      " · ", el("span", { class: `acc-state state-${p.state}`, text: t(`accounts.state.${p.state}`) }),
      // One lost letter or forgotten password: a new code for this person only (their password
      // and sessions end), printed as one letter.
      p.account_id ? el("button", { type: "button", class: "secondary letter-reset", "data-person": String(p.person_id),
        onclick: async () => {
          if (p.state === "active" && !window.confirm(t("accounts.reset_confirm", { name: p.name }))) return;
          const m = await api("POST", `/api/v1/accounts/${p.account_id}/reset`, {});
          if (m.status !== 200) { status.textContent = errorText(m); return; }
          showLetters({ class: c.class, institution: c.institution, url: m.data.url,
            items: [{ ...p, login: m.data.login, code: m.data.code, expires_at: m.data.expires_at }] });
        }, text: t("accounts.letter_one") }) : null))));
}

function showLetters(d) {
  const region = document.getElementById("region")?.textContent ?? "";
  const letters = d.items.map((p) => el("article", { class: "letter", "data-person": String(p.person_id), "data-role": p.role,
    "data-student": p.student?.name ?? "" },
    el("p", { class: "muted", text: `${region} · ${d.institution.name} · ${d.class.name}` }),
    el("h2", { text: t("accounts.letter_title") }),
    el("p", { class: "letter-to", text: t("accounts.letter_to", { name: p.name }) }),
    p.role === "parent"
      ? el("p", { text: t("accounts.letter_parent", { student: p.student.name, relation: t(`relation.${p.student.relation}`) }) })
      : el("p", { text: t("accounts.letter_student", { class: d.class.name }) }),
    el("p", { text: t("accounts.letter_steps", { url: d.url }) }),
    el("dl", { class: "facts letter-facts" },
      el("dt", { text: t("accounts.letter_address") }), el("dd", { class: "letter-url", text: d.url }),
      el("dt", { text: t("accounts.login") }), el("dd", {}, el("code", { class: "letter-login", text: p.login })),
      el("dt", { text: t("accounts.code") }), el("dd", {}, el("code", { class: "letter-code", text: p.code })),
      el("dt", { text: t("accounts.valid_until_label") }), el("dd", { text: day(p.expires_at) })),
    el("p", { class: "muted", text: t("accounts.letter_rules") })));
  show(
    el("div", { class: "no-print toolbar" },
      el("h1", { text: t("accounts.letters_ready", { n: d.items.length, class: d.class.name }) }),
      el("p", { class: "muted", text: t("accounts.letters_once") }),
      el("button", { type: "button", id: "letters-print", onclick: () => window.print(), text: t("accounts.print") })),
    d.items.length ? el("div", { class: "letters" }, letters) : el("p", { class: "muted", id: "letters-none", text: t("accounts.letters_none") }));
}
