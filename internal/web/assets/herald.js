// Progressive enhancement only: every page works without this file.
// A form's buttons are disabled once it is sent, so that a double click
// does not post it twice.
document.addEventListener("submit", function (e) {
  var form = e.target;
  window.setTimeout(function () {
    form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
  }, 0);
});

// An announcement's page follows its progress stream while it sends: the
// bar, the counts and the status change in place, and the page reloads
// once when the announcement is over, to show when it finished and which
// buttons are left. Without script the page reloads itself instead.
document.querySelectorAll("[data-progress]").forEach(function (panel) {
  if (!window.EventSource) { return; }
  var stream = new EventSource(panel.getAttribute("data-progress"));
  var bar = panel.querySelector("[data-progress-bar]");
  var status = document.querySelector("[data-progress-status]");
  stream.addEventListener("progress", function (e) {
    var p = JSON.parse(e.data);
    bar.max = Math.max(p.recipients, 1);
    bar.value = p.done;
    bar.setAttribute("aria-label", p.done + " of " + p.recipients + " done");
    bar.textContent = p.done + " of " + p.recipients;
    panel.querySelectorAll("[data-progress-field]").forEach(function (el) {
      el.textContent = p[el.getAttribute("data-progress-field")];
    });
    if (status) {
      status.textContent = p.status;
      status.className = "status status-" + p.status;
    }
    if (p.final) {
      stream.close();
      window.location.reload();
    }
  });
});
