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
// bar, the counts and the status change in place. When the announcement
// is over the stream ends, the page shows when it finished, and its
// buttons (pause, cancel) give way to a link that reloads it, to show
// what can be done now; the page is not reloaded under the reader.
// Without script the page reloads itself instead.
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
    document.querySelectorAll("[data-progress-field]").forEach(function (el) {
      el.textContent = p[el.getAttribute("data-progress-field")];
    });
    if (status) {
      status.textContent = p.status;
      status.className = "status status-" + p.status;
    }
    if (p.final) {
      stream.close();
      var finished = document.querySelector("[data-progress-finished]");
      if (finished && p.finished) {
        finished.textContent = p.finished;
      }
      var actions = panel.querySelector("[data-progress-actions]");
      if (actions) {
        var again = document.createElement("a");
        again.href = window.location.href;
        again.textContent = "Reload to see what can be done now";
        actions.replaceChildren(again);
      }
      var live = panel.querySelector("[data-progress-live]");
      if (live) {
        live.textContent = "Finished.";
      }
    }
  });
});

// A composer's preview follows its form as it is typed or ticked: a
// moment after the last change, the form is posted to its Preview address
// (data-live), as the Preview button posts it, and the preview in the
// answer replaces the one shown (the element named by data-live-target).
// Answers that arrive after a newer request was sent are dropped. The
// preview is aria-busy from the request until its framed message has
// loaded.
document.querySelectorAll("form[data-live]").forEach(function (form) {
  var target = document.getElementById(form.getAttribute("data-live-target"));
  if (!target || !window.fetch || !window.DOMParser) {
    return;
  }
  var timer = 0;
  var sent = 0;
  function refresh() {
    var mine = ++sent;
    function done() {
      if (mine === sent) {
        target.removeAttribute("aria-busy");
      }
    }
    target.setAttribute("aria-busy", "true");
    fetch(form.getAttribute("data-live"), {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      credentials: "same-origin"
    }).then(function (res) {
      return res.text();
    }).then(function (html) {
      if (mine !== sent) {
        return;
      }
      var doc = new DOMParser().parseFromString(html, "text/html");
      var fresh = doc.getElementById(target.id);
      if (fresh) {
        target.replaceChildren.apply(target, Array.from(fresh.childNodes));
      }
      var frame = target.querySelector("iframe");
      if (frame) {
        frame.addEventListener("load", done);
      } else {
        done();
      }
    }).catch(function () {
      // The Preview button still works; the next change tries again.
      done();
    });
  }
  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 600);
  }
  form.addEventListener("input", later);
  form.addEventListener("change", later);
});
