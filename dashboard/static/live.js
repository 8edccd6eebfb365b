// Live conversations: server-sent events from /conversations/stream and
// /conversations/<id>/stream (dashboard/conversations.py). Texts are set with
// textContent only: nothing a citizen typed is ever parsed as HTML.
(function () {
  "use strict";

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  // Texts in the page's language (app.js reads them from #ui-texts).
  var text = window.dashboardText || function (key) { return key; };
  // India Standard Time (Asia/Kolkata) is UTC+05:30 all year: the same text as
  // dashboard.web.ist, e.g. "04 Dec 15:30:05 IST" ("04 दिस॰ 15:30:05 IST").
  var MONTHS = text("months").split(",");
  function two(n) { return (n < 10 ? "0" : "") + n; }
  function clock(at) {
    var d = new Date((at + 19800) * 1000);
    return two(d.getUTCDate()) + " " + MONTHS[d.getUTCMonth()] + " " + two(d.getUTCHours()) +
      ":" + two(d.getUTCMinutes()) + ":" + two(d.getUTCSeconds()) + " IST";
  }
  function waiting(seconds) {
    if (seconds === null || seconds === undefined) return el("span", "muted", "–");
    var span = el("span", null, text("seconds", { n: seconds }));
    span.setAttribute("data-waiting", seconds);
    return span;
  }
  function flags(row) {
    var box = document.createDocumentFragment();
    function badge(name, cls, text) {
      var b = el("span", "badge " + cls, text);
      b.setAttribute("data-flag", name);
      box.appendChild(b);
      box.appendChild(document.createTextNode(" "));
    }
    if (row.human_requested) badge("human", "flag-human", text("wants_human"));
    if (row.fallback_loop) badge("fallback", "flag-fallback", text("fallback_loop"));
    if (row.handed_over) {
      badge("handed", "flag-handed", text("with_officer", { name: row.officer_name || text("an_officer") }));
      if (row.officer_name) box.querySelector('[data-flag="handed"]').setAttribute("translate", "no");
    }
    return box;
  }
  function cell(row, content) {
    var td = el("td");
    if (typeof content === "string") td.textContent = content;
    else td.appendChild(content);
    row.appendChild(td);
  }
  function state(words) {
    document.querySelectorAll("[data-live-state]").forEach(function (s) { s.textContent = words; });
  }
  function listen(url, name, handle) {
    var source = new EventSource(url);
    source.addEventListener(name, function (event) {
      state(text("live"));
      handle(JSON.parse(event.data));
    });
    source.onerror = function () { state(text("reconnecting")); };
    // No longer yours (handed to another department, account disabled, signed out):
    // the page reloads into the refusal instead of showing a frozen conversation.
    source.addEventListener("gone", function () {
      source.close();
      window.location.reload();
    });
    return source;
  }

  // Waiting times move on between updates.
  window.setInterval(function () {
    document.querySelectorAll("[data-waiting]").forEach(function (span) {
      var seconds = parseInt(span.getAttribute("data-waiting"), 10) + 1;
      span.setAttribute("data-waiting", seconds);
      span.textContent = text("seconds", { n: seconds });
    });
  }, 1000);

  function times(root) {
    root.querySelectorAll("time[data-at]").forEach(function (t) {
      t.textContent = clock(parseFloat(t.getAttribute("data-at")));
    });
  }
  times(document);

  // --- the list ----------------------------------------------------------------------
  var list = document.querySelector("[data-conversations-stream]");
  if (list) {
    var shown = null;
    listen(list.getAttribute("data-conversations-stream"), "conversations", function (data) {
      // Redraw only when something other than the (locally ticking) waiting times changed,
      // so a row does not vanish under the officer's pointer every few seconds.
      var key = JSON.stringify(data.rows.map(function (row) {
        return Object.assign({}, row, { waiting_seconds: row.waiting_seconds !== null });
      }));
      if (key === shown) return;
      shown = key;
      var body = document.createDocumentFragment();
      data.rows.forEach(function (row) {
        var tr = el("tr");
        tr.setAttribute("data-wa-id", row.wa_id);
        var link = el("a", null, row.who);
        link.setAttribute("translate", "no");
        // DASHBOARD_URL_PREFIX (base.html's meta): the path nginx mounts the dashboard under
        var prefix = document.querySelector('meta[name="url-prefix"]');
        link.href = (prefix ? prefix.content : "") + "/conversations/" + encodeURIComponent(row.wa_id);
        cell(tr, link);
        cell(tr, row.department_names.length ? row.department_names.join(", ") : row.owner_name);
        cell(tr, row.language_name || "–");
        cell(tr, row.flow || "–");
        cell(tr, row.last_intent || "–");
        tr.children[3].setAttribute("translate", "no");
        tr.children[4].setAttribute("translate", "no");
        cell(tr, waiting(row.waiting_seconds));
        cell(tr, flags(row));
        var t = el("time", null, clock(row.last_at));
        t.setAttribute("data-at", row.last_at);
        cell(tr, t);
        body.appendChild(tr);
      });
      if (!data.rows.length) {
        var empty = el("tr", "empty");
        var td = el("td", "muted", text("no_conversations"));
        td.colSpan = 8;
        empty.appendChild(td);
        body.appendChild(empty);
      }
      list.replaceChildren(body);
    });
  }

  // --- one conversation --------------------------------------------------------------
  var transcript = document.querySelector("[data-conversation-stream]");
  if (transcript) {
    var after = parseInt(transcript.getAttribute("data-after"), 10) || 0;
    var url = transcript.getAttribute("data-conversation-stream") + "?after=" + after;
    var summary = document.querySelector("[data-summary]");
    listen(url, "conversation", function (data) {
      data.messages.forEach(function (m) {
        if (transcript.querySelector('[data-id="' + m.id + '"]')) return;
        var li = el("li", "message " + m.kind);
        li.setAttribute("data-id", m.id);
        if (m.kind !== "event") {
          var from = m.kind === "citizen" ? text("citizen")
            : m.kind === "officer" ? text("officer_name", { name: m.officer_name }) : text("assistant");
          li.appendChild(el("span", "from", from));
        }
        var t = el("time", null, clock(m.at));
        t.setAttribute("data-at", m.at);
        li.appendChild(t);
        var p = el("p");
        if (m.button) {
          var badge = el("span", "badge tapped", transcript.getAttribute("data-tapped-label"));
          badge.setAttribute("data-tapped", "");
          p.appendChild(badge);
          p.appendChild(document.createTextNode(" "));
        }
        if (m.kind === "event") {
          p.appendChild(document.createTextNode(m.text));
        } else {
          var said = el("span", null, m.text);
          said.setAttribute("translate", "no");
          p.appendChild(said);
        }
        li.appendChild(p);
        transcript.appendChild(li);
        li.scrollIntoView({ block: "nearest" });
      });
      var s = data.summary;
      if (summary) {
        [["language", "language_name"], ["flow", "flow"], ["last_intent", "last_intent"]].forEach(function (pair) {
          var dd = summary.querySelector('[data-key="' + pair[0] + '"]');
          if (dd) dd.textContent = s[pair[1]] || "–";
        });
        var owner = summary.querySelector('[data-key="owner"]');
        if (owner) owner.textContent = s.owner_name;
        var w = summary.querySelector('[data-key="waiting"]');
        if (w) w.replaceChildren(waiting(s.waiting_seconds));
        var f = summary.querySelector('[data-key="flags"]');
        if (f) f.replaceChildren(flags(s));
      }
    });
  }
})();
