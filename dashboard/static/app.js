// Small progressive enhancements; every page works without JavaScript.
(function () {
  "use strict";
  // Confirm irreversible actions: <button data-confirm="...">.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var question = button && button.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  // SLA timers: <span data-due="2026-12-07T10:00:00Z"> shows "due in 2 d 3 h" / "overdue 5 h".
  function describe(ms) {
    var minutes = Math.floor(Math.abs(ms) / 60000);
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    if (days > 0) return days + " d " + hours + " h";
    if (hours > 0) return hours + " h " + (minutes % 60) + " min";
    return (minutes % 60) + " min";
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) return;
      var left = due - now;
      el.textContent = left >= 0 ? "due in " + describe(left) : "overdue " + describe(left);
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
