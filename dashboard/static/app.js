// Small progressive enhancements; every page works without JavaScript.
(function () {
  "use strict";
  // Texts scripts write, in the page's language: <script type="application/json"
  // id="ui-texts"> (messages.yml keys js.*); window.dashboardText("key", {name: ..}).
  var texts = {};
  var source = document.getElementById("ui-texts");
  try { texts = source ? JSON.parse(source.textContent) : {}; } catch (e) { texts = {}; }
  function text(key, params) {
    var value = texts[key] || key;
    Object.keys(params || {}).forEach(function (name) {
      value = value.split("{" + name + "}").join(String(params[name]));
    });
    return value;
  }
  window.dashboardText = text;

  // Confirm irreversible actions: <button data-confirm="...">.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var question = button && button.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  // Print buttons: <button data-print> (the CSC receipt).
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });

  // SLA timers: <span data-due="2026-12-07T10:00:00Z"> shows "due in 2 d 3 h" / "overdue 5 h".
  function describe(ms) {
    var minutes = Math.floor(Math.abs(ms) / 60000);
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    if (days > 0) return text("days_hours", { d: days, h: hours });
    if (hours > 0) return text("hours_minutes", { h: hours, m: minutes % 60 });
    return text("minutes", { m: minutes % 60 });
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) return;
      var left = due - now;
      el.textContent = text(left >= 0 ? "due_in" : "overdue", { time: describe(left) });
      el.classList.toggle("overdue", left < 0);
      el.classList.toggle("due", left >= 0);
    });
  }
  tick();
  window.setInterval(tick, 30000);

  // Live report: <tbody data-refresh="/broadcasts/report.json"> reloads rows every 5 s.
  document.querySelectorAll("[data-refresh-url]").forEach(function (el) {
    var url = el.getAttribute("data-refresh-url");
    window.setInterval(function () {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data || !data.reports) return;
          Object.keys(data.reports).forEach(function (id) {
            var report = data.reports[id];
            Object.keys(report).forEach(function (key) {
              var cell = el.querySelector('[data-report="' + id + '"][data-key="' + key + '"]');
              if (cell) cell.textContent = report[key];
            });
          });
        })
        .catch(function () {});
    }, 5000);
  });

  // CSRF header for fetch() calls made by page scripts.
  window.dashboardCsrf = function () {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  };
})();
