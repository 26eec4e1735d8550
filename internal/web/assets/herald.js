// Progressive enhancement only: every page works without this file.
// A form's buttons are disabled once it is sent, so that a double click
// does not post it twice.
document.addEventListener("submit", function (e) {
  var form = e.target;
  window.setTimeout(function () {
    form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
  }, 0);
});
