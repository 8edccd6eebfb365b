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
  // India Standard Time (Asia/Kolkata) is UTC+05:30 all year: the same text as
  // dashboard.web.ist, e.g. "04 Dec 15:30:05 IST".
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  function two(n) { return (n < 10 ? "0" : "") + n; }
  function clock(at) {
    var d = new Date((at + 19800) * 1000);
    return two(d.getUTCDate()) + " " + MONTHS[d.getUTCMonth()] + " " + two(d.getUTCHours()) +
      ":" + two(d.getUTCMinutes()) + ":" + two(d.getUTCSeconds()) + " IST";
  }
  function waiting(seconds) {
    if (seconds === null || seconds === undefined) return el("span", "muted", "–");
    var span = el("span", null, seconds + " s");
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
    if (row.human_requested) badge("human", "flag-human", "wants a human");
    if (row.fallback_loop) badge("fallback", "flag-fallback", "fallback loop");
    if (row.handed_over) badge("handed", "flag-handed", "with " + (row.officer_name || "an officer"));
    return box;
  }
  function cell(row, content) {
    var td = el("td");
    if (typeof content === "string") td.textContent = content;
    else td.appendChild(content);
    row.appendChild(td);
  }
  function state(text) {
    document.querySelectorAll("[data-live-state]").forEach(function (s) { s.textContent = text; });
  }
  function listen(url, name, handle) {
    var source = new EventSource(url);
    source.addEventListener(name, function (event) {
      state("live");
      handle(JSON.parse(event.data));
    });
    source.onerror = function () { state("reconnecting…"); };
    return source;
  }

  // Waiting times move on between updates.
  window.setInterval(function () {
    document.querySelectorAll("[data-waiting]").forEach(function (span) {
      var seconds = parseInt(span.getAttribute("data-waiting"), 10) + 1;
      span.setAttribute("data-waiting", seconds);
      span.textContent = seconds + " s";
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
        link.href = "/conversations/" + encodeURIComponent(row.wa_id);
        cell(tr, link);
        cell(tr, row.department_names.length ? row.department_names.join(", ") : row.owner_name);
        cell(tr, row.language || "–");
        cell(tr, row.flow || "–");
        cell(tr, row.last_intent || "–");
        cell(tr, waiting(row.waiting_seconds));
        cell(tr, flags(row));
        var t = el("time", null, clock(row.last_at));
        t.setAttribute("data-at", row.last_at);
        cell(tr, t);
        body.appendChild(tr);
      });
      if (!data.rows.length) {
        var empty = el("tr", "empty");
        var td = el("td", "muted", "No active conversations.");
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
          var from = m.kind === "citizen" ? "Citizen"
            : m.kind === "officer" ? m.officer_name + " (officer)" : "Assistant";
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
        p.appendChild(document.createTextNode(m.text));
        li.appendChild(p);
        transcript.appendChild(li);
        li.scrollIntoView({ block: "nearest" });
      });
      var s = data.summary;
      if (summary) {
        ["language", "flow", "last_intent"].forEach(function (key) {
          var dd = summary.querySelector('[data-key="' + key + '"]');
          if (dd) dd.textContent = s[key] || "–";
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
