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

  // Batch sign: one box chooses every task on the page.
  document.querySelectorAll("[data-check-all]").forEach(function (all) {
    all.addEventListener("change", function () {
      all.form.querySelectorAll("input[name=task]").forEach(function (box) { box.checked = all.checked; });
    });
  });

  // Live (§8.8): worklist counts change in place; a task new to this page is added on top
  // of its table with its case number, and a note says so. The stream carries our own
  // session cookie; EventSource reconnects by itself with the last id it heard.
  var live = document.querySelector("[data-live-tasks]") || document.querySelector("nav.worklists") ||
    document.querySelector("[data-live-fragment]");
  if (live && window.EventSource) {
    var stream = new EventSource(body.dataset.stream || "/console/stream");
    // A card with data-live-fragment (the dashboard's alerts) is fetched again, at most once a
    // second, when a worklist count or an alert changes: its total and rows stay current.
    var refetching = null;
    var refetch = function () {
      if (refetching) return;
      refetching = setTimeout(function () {
        refetching = null;
        document.querySelectorAll("[data-live-fragment]").forEach(function (card) {
          fetch(card.dataset.liveFragment, { credentials: "same-origin" }).then(function (answer) {
            return answer.ok ? answer.text() : null;
          }).then(function (html) {
            if (!html) return;
            var fresh = document.createElement("div");
            fresh.innerHTML = html;
            var replacement = fresh.querySelector("[data-live-fragment]");
            if (replacement) card.replaceWith(replacement);
          }).catch(function () {});
        });
      }, 300);
    };
    stream.addEventListener("alert", refetch);
    stream.addEventListener("worklist", refetch);
    stream.addEventListener("worklist", function (event) {
      var list = JSON.parse(event.data);
      document.querySelectorAll("nav.worklists a[data-key='" + list.key + "'] .count").forEach(function (el) {
        el.textContent = list.count;
      });
    });
    stream.addEventListener("task", function (event) {
      var task = JSON.parse(event.data);
      var rows = document.querySelector("[data-live-tasks]");
      if (!rows || task.state !== "dispatched" || rows.querySelector("[data-task='" + task.id + "']")) return;
      var row = document.createElement("tr");
      row.dataset.task = task.id;
      row.className = "live-new";
      var cell = document.createElement("td");
      cell.colSpan = 20;
      var link = document.createElement("a");
      link.className = "case-no";
      link.href = "/console/cases/" + encodeURIComponent(task.case_id);
      link.textContent = task.case_no;
      cell.appendChild(link);
      cell.appendChild(document.createTextNode(" · " + (body.dataset.newTask || "new")));
      row.appendChild(cell);
      rows.insertBefore(row, rows.firstChild);
      var note = document.querySelector("[data-live-note]");
      if (note) {
        note.hidden = false;
        note.textContent = (body.dataset.newTask || "new") + ": " + task.case_no;
      }
    });
    window.addEventListener("pagehide", function () { stream.close(); });
  }

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

  // Photos: a drop zone fills the file input it holds (phones use the camera input itself).
  document.querySelectorAll("[data-drop-zone]").forEach(function (zone) {
    var input = zone.querySelector("input[type=file]");
    var list = zone.querySelector("[data-chosen]");
    function show() {
      if (!list) return;
      list.textContent = "";
      Array.prototype.forEach.call(input.files, function (file) {
        var item = document.createElement("li");
        item.textContent = file.name + " (" + Math.ceil(file.size / 1024) + " KB)";
        list.appendChild(item);
      });
    }
    input.addEventListener("change", show);
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("dragging");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("dragging"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      var dropped = event.dataTransfer && event.dataTransfer.files;
      if (!dropped || !dropped.length) return;
      var chosen = new DataTransfer();
      Array.prototype.forEach.call(input.files, function (file) { chosen.items.add(file); });
      Array.prototype.forEach.call(dropped, function (file) {
        if (file.type.indexOf("image/") === 0) chosen.items.add(file);
      });
      input.files = chosen.files;
      show();
    });
  });

  // Intake, in the order of a phone call (complaint_form.html): the category combobox, the
  // street → grid picker, the device's position, the caller's earlier cases, the shortcuts.
  document.querySelectorAll("form[data-intake]").forEach(function (form) {
    combobox(form.querySelector("[role=combobox]"), form.querySelector("[data-category-code]"));
    gridPicker(form.querySelector("[data-street-picker]"), form.querySelector("[data-grid-picker]"));
    locator(form);
    similarCases(form);
    shortcuts(form);
  });

  // The grid worker's finding (patrol.html): the phone's position fills the hidden lat/lon.
  document.querySelectorAll("form[data-patrol-finding]").forEach(locator);

  // ARIA 1.2 combobox over a list the server rendered: typing filters it by the Chinese
  // name (a code typed matches silently, never shown); ↑ ↓ move, Enter or Tab takes the
  // active option, Esc closes. The chosen code goes in a hidden field.
  function combobox(input, code) {
    if (!input || !code) return;
    var list = document.getElementById(input.getAttribute("aria-controls"));
    var options = Array.prototype.slice.call(list.querySelectorAll("[role=option]"));
    var shown = [], active = -1;
    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }
    function mark(index) {
      options.forEach(function (o) { o.setAttribute("aria-selected", "false"); o.classList.remove("active"); });
      active = index;
      if (index < 0 || !shown[index]) { input.removeAttribute("aria-activedescendant"); return; }
      shown[index].setAttribute("aria-selected", "true");
      shown[index].classList.add("active");
      input.setAttribute("aria-activedescendant", shown[index].id);
      shown[index].scrollIntoView({ block: "nearest" });
    }
    function open(text) {
      var typed = text.trim().toLowerCase();
      shown = options.filter(function (o) {
        var name = o.textContent.toLowerCase();
        return !typed || name.indexOf(typed) >= 0 || o.dataset.search.toLowerCase().indexOf(typed) === 0;
      });
      options.forEach(function (o) { o.hidden = shown.indexOf(o) < 0; });
      list.hidden = !shown.length;
      input.setAttribute("aria-expanded", shown.length ? "true" : "false");
      mark(shown.length ? 0 : -1);
    }
    function take(option) {
      input.value = option.textContent;
      code.value = option.dataset.code;
      close();
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }
    input.addEventListener("input", function () {
      code.value = "";
      open(input.value);
    });
    input.addEventListener("keydown", function (event) {
      var expanded = !list.hidden;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (!expanded) { open(input.value); return; }
        var step = event.key === "ArrowDown" ? 1 : -1;
        mark((active + step + shown.length) % shown.length);
      } else if ((event.key === "Enter" || event.key === "Tab") && expanded && shown[active]) {
        if (event.key === "Enter") event.preventDefault();
        take(shown[active]);
      } else if (event.key === "Escape" && expanded) {
        event.preventDefault();
        close();
      }
    });
    list.addEventListener("mousedown", function (event) {
      var option = event.target.closest("[role=option]");
      if (option) { event.preventDefault(); take(option); }
    });
    input.addEventListener("blur", close);
  }

  // The grid list shows the chosen street's grids only; picking a grid names its street.
  function gridPicker(street, grid) {
    if (!street || !grid) return;
    function filter() {
      Array.prototype.forEach.call(grid.options, function (o) {
        o.hidden = Boolean(street.value && o.dataset.street && o.dataset.street !== street.value);
      });
      var chosen = grid.options[grid.selectedIndex];
      if (chosen && chosen.hidden) grid.value = "";
    }
    street.addEventListener("change", filter);
    grid.addEventListener("change", function () {
      var chosen = grid.options[grid.selectedIndex];
      if (chosen && chosen.dataset.street) street.value = chosen.dataset.street;
    });
    filter();
  }

  // Coordinates only when a device gives them: the button asks for the position once.
  function locator(form) {
    var button = form.querySelector("[data-locate]");
    if (!button || !navigator.geolocation) return;
    var said = form.querySelector("[data-located]");
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (where) {
        form.querySelector("[data-lat]").value = where.coords.latitude.toFixed(6);
        form.querySelector("[data-lon]").value = where.coords.longitude.toFixed(6);
        said.textContent = said.dataset.ok;
      }, function () {
        said.textContent = said.dataset.failed;
      }, { timeout: 10000, maximumAge: 60000 });
    });
  }

  // The caller's earlier cases and likely duplicates, fetched as the call goes on.
  function similarCases(form) {
    var url = form.dataset.similar;
    var region = form.querySelector("#similar");
    if (!url || !region) return;
    var asked = "";
    function ask() {
      var query = new URLSearchParams({
        phone: form.elements.reporter_phone.value.trim(),
        category: form.elements.category_code.value || form.elements.category.value.trim(),
        grid: form.elements.grid.value
      }).toString();
      if (query === asked) return;
      asked = query;
      fetch(url + "?" + query, { credentials: "same-origin" })
        .then(function (answer) { return answer.ok ? answer.text() : ""; })
        .then(function (html) { if (asked === query) region.innerHTML = html; })
        .catch(function () { /* the duplicate check on filing still runs */ });
    }
    ["reporter_phone", "category", "grid"].forEach(function (name) {
      form.elements[name].addEventListener("change", ask);
    });
    if (form.elements.reporter_phone.value) ask();
  }

  // Alt+S files, Alt+A answers directly (first opens the answer box), Ctrl+Enter files
  // from a text area; the buttons show their shortcuts.
  function shortcuts(form) {
    function press(letter) {
      var button = form.querySelector("button[data-shortcut=" + letter + "]");
      if (!button) return;
      var box = button.closest("details");
      var answer = box && box.querySelector("textarea");
      if (box && (!box.open || (answer && !answer.value.trim()))) {
        box.open = true;
        if (answer) answer.focus();
        return;
      }
      form.requestSubmit(button);
    }
    form.addEventListener("keydown", function (event) {
      var letter = event.code === "KeyS" ? "s" : event.code === "KeyA" ? "a" : "";
      if (event.altKey && !event.ctrlKey && !event.metaKey && letter) {
        event.preventDefault();
        press(letter);
      } else if (event.key === "Enter" && event.ctrlKey && event.target.tagName === "TEXTAREA") {
        event.preventDefault();
        press(event.target.name === "answer" ? "a" : "s");
      }
    });
  }

  // Lightbox: a thumbnail opens its photo over the page; Esc, a click or the button closes it.
  var opener = null;
  function closeLightbox() {
    var box = document.getElementById("lightbox");
    if (!box) return;
    box.remove();
    if (opener) opener.focus();
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-lightbox]");
    if (!link) return;
    event.preventDefault();
    closeLightbox();
    opener = link;
    var box = document.createElement("div");
    box.id = "lightbox";
    box.className = "lightbox";
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-modal", "true");
    box.setAttribute("aria-label", link.dataset.caption || "");
    var image = document.createElement("img");
    image.src = link.href;
    image.alt = link.dataset.caption || "";
    var caption = document.createElement("p");
    caption.textContent = link.dataset.caption || "";
    var close = document.createElement("button");
    close.type = "button";
    close.className = "close";
    close.textContent = "×";
    close.setAttribute("aria-label", body.dataset.close || "Close");
    box.appendChild(close);
    box.appendChild(image);
    box.appendChild(caption);
    box.addEventListener("click", function (e) { if (e.target !== image) closeLightbox(); });
    body.appendChild(box);
    close.focus();
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closeLightbox();
  });
})();
