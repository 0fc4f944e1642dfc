// Street Whistle console: small progressive enhancements; every page works without them.
(function () {
  "use strict";
  var body = document.body;

  // Deadline countdowns tick every 30 s (the server rendered the first value).
  var units = (body.dataset.units || "d|h|m").split("|");
  function duration(seconds) {
    var left = Math.abs(Math.round(seconds));
    var d = Math.floor(left / 86400), h = Math.floor((left % 86400) / 3600), m = Math.floor((left % 3600) / 60);
    if (d) return d + units[0] + " " + h + units[1];
    if (h) return h + units[1] + " " + m + units[2];
    return m + units[2];
  }
  var skew = body.dataset.now ? Date.parse(body.dataset.now) - Date.now() : 0;
  function tick() {
    var now = Date.now() + skew;
    document.querySelectorAll("time[data-deadline]").forEach(function (el) {
      var seconds = (Date.parse(el.dataset.deadline) - now) / 1000;
      var shape = seconds >= 0 ? body.dataset.left : body.dataset.over;
      el.textContent = shape.replace("{time}", duration(seconds));
      el.classList.toggle("overdue", seconds < 0);
    });
  }
  setInterval(tick, 30000);

  // A submitted form cannot be sent twice by a double click.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.sent) { event.preventDefault(); return; }
    form.dataset.sent = "1";
    window.setTimeout(function () { delete form.dataset.sent; }, 4000);
  });

  // Opening an action focuses its first field, so the keyboard flow stays short.
  document.addEventListener("toggle", function (event) {
    var details = event.target;
    if (details.tagName === "DETAILS" && details.open) {
      var field = details.querySelector("textarea, input:not([type=hidden]), select");
      if (field) field.focus();
    }
  }, true);
})();
