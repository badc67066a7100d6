// Vigil console: a little plain JavaScript for copy buttons, reveal
// toggles, confirm dialogs, switches, key/value rows, list filters, the scan
// progress and the New Flow builder. Every page works without it except the
// builder's step-by-step panels.
(function () {
  "use strict";
  var $ = function (sel, root) { return (root || document).querySelector(sel); };
  var $$ = function (sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); };

  function announce(msg) {
    var live = $("#live");
    if (live) { live.textContent = ""; setTimeout(function () { live.textContent = msg; }, 30); }
  }

  // Copy buttons: data-copy="#input-id" copies the input's value.
  $$("[data-copy]").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var el = $(btn.getAttribute("data-copy"));
      if (!el) return;
      var text = el.value !== undefined ? el.value : el.textContent;
      var done = function () {
        btn.setAttribute("data-copied", "true");
        var old = btn.textContent; btn.textContent = "Copied";
        announce("Copied to the clipboard");
        setTimeout(function () { btn.textContent = old; }, 1500);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { fallback(el); done(); });
      } else { fallback(el); done(); }
    });
  });
  function fallback(el) {
    var type = el.type; if (type === "password") el.type = "text";
    el.select(); try { document.execCommand("copy"); } catch (e) {}
    if (type === "password") el.type = type;
  }

  // Reveal toggles: data-reveal="#input-id" switches password/text.
  $$("[data-reveal]").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var el = $(btn.getAttribute("data-reveal"));
      if (!el) return;
      var show = el.type === "password";
      el.type = show ? "text" : "password";
      btn.textContent = show ? "Hide" : "Reveal";
      btn.setAttribute("aria-pressed", show ? "true" : "false");
    });
  });

  // Confirm before destructive submits: <form data-confirm="...">.
  $$("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.getAttribute("data-confirm"))) e.preventDefault();
    });
  });

  // Switches that submit their form when flipped.
  $$("[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.requestSubmit ? el.form.requestSubmit() : el.form.submit(); });
  });

  // Dialogs: data-open="#dialog-id" opens, [data-close] closes.
  $$("[data-open]").forEach(function (btn) {
    btn.addEventListener("click", function (e) {
      var d = $(btn.getAttribute("data-open"));
      if (d && d.showModal) { e.preventDefault(); d.showModal(); }
    });
  });
  $$("dialog [data-close]").forEach(function (btn) {
    btn.addEventListener("click", function (e) {
      var d = btn.closest("dialog");
      if (d) { e.preventDefault(); d.close(); var back = d.getAttribute("data-close-to"); if (back) window.history.replaceState(null, "", back); }
    });
  });
  $$("dialog[data-modal]").forEach(function (d) { if (d.hasAttribute("open")) { d.close(); d.showModal(); } });

  // Select-all checkbox for bulk actions.
  $$("[data-check-all]").forEach(function (box) {
    box.addEventListener("change", function () {
      $$("input[type=checkbox][name='" + box.getAttribute("data-check-all") + "']").forEach(function (c) { c.checked = box.checked; });
    });
  });

  // Filter a list by typing: data-filter-list="#list-id" on a search input.
  $$("[data-filter-list]").forEach(function (input) {
    var list = $(input.getAttribute("data-filter-list"));
    if (!list) return;
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase();
      $$("[data-text]", list).forEach(function (item) {
        item.hidden = q !== "" && item.getAttribute("data-text").toLowerCase().indexOf(q) < 0;
      });
    });
  });

  // Key/value pairs: the "+" button copies the entry row into the list.
  $$("[data-add-pair]").forEach(function (btn) {
    btn.addEventListener("click", function (e) {
      e.preventDefault();
      var table = $(btn.getAttribute("data-add-pair"));
      var entry = $("[data-pair-entry]", table);
      var name = $("input[name=key_name_new]", entry), value = $("input[name=key_value_new]", entry), place = $("[name=key_place_new]:checked", btn.form) || $("select[name=key_place_new]", entry);
      if (!name.value.trim()) { name.focus(); return; }
      var tbody = $("tbody[data-pairs]", table);
      var tpl = $("template", table).content.cloneNode(true);
      $("input[name=key_name]", tpl).value = name.value.trim();
      $("input[name=key_value]", tpl).value = value.value;
      $("input[name=key_place]", tpl).value = place ? place.value : "param";
      $("[data-cell=name]", tpl).textContent = name.value.trim();
      $("[data-cell=place]", tpl).textContent = place && place.value === "header" ? "HTTP header" : "URL parameter";
      $("[data-cell=value]", tpl).textContent = value.value ? "••••" + value.value.slice(-4) : "(saved value)";
      tbody.appendChild(tpl);
      name.value = ""; value.value = ""; name.focus();
      announce("Key added");
    });
  });
  document.addEventListener("click", function (e) {
    var rm = e.target.closest && e.target.closest("[data-remove-row]");
    if (rm) { e.preventDefault(); var tr = rm.closest("tr"); if (tr) tr.remove(); announce("Key removed"); }
  });

  // Editor: keep the line-number gutter in step with the text; clicking a
  // problem selects its line.
  $$(".editor").forEach(function (ed) {
    var ta = $("textarea", ed), gutter = $(".gutter", ed);
    if (!ta || !gutter) return;
    ta.addEventListener("scroll", function () { gutter.scrollTop = ta.scrollTop; });
    ta.addEventListener("input", function () {
      var n = ta.value.split("\n").length, out = [];
      for (var i = 1; i <= n; i++) out.push(i);
      gutter.textContent = out.join("\n");
    });
  });
  $$("[data-line]").forEach(function (a) {
    a.addEventListener("click", function (e) {
      var ta = $(a.getAttribute("href")); if (!ta) return;
      e.preventDefault();
      var line = parseInt(a.getAttribute("data-line"), 10), lines = ta.value.split("\n"), start = 0;
      for (var i = 0; i < line - 1 && i < lines.length; i++) start += lines[i].length + 1;
      ta.focus(); ta.setSelectionRange(start, start + (lines[line - 1] || "").length);
      ta.scrollTop = Math.max(0, (line - 5) * 19.5);
    });
  });

  // Scan progress: poll the JSON endpoint until the scan ends.
  $$("[data-progress-url]").forEach(function (box) {
    var url = box.getAttribute("data-progress-url");
    var text = $("[data-progress-text]", box), bar = $("progress", box);
    var tick = function () {
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (s) {
        if (text) text.textContent = s.message;
        if (bar && s.total > 0) { bar.max = s.total; bar.value = s.done; }
        if (s.finished) { box.setAttribute("data-finished", s.status); window.location.reload(); return; }
        setTimeout(tick, 1000);
      }, function () { setTimeout(tick, 3000); });
    };
    if (box.getAttribute("data-finished") === "") setTimeout(tick, 500);
  });

  // New Flow builder: Add event → Built-in triggers → API Endpoint →
  // security option → Close → Save.
  var builder = $("#builder");
  if (builder) {
    var show = function (id, on) { var el = $(id); if (el) el.hidden = !on; };
    var security = $("#f-security");
    $("#add-event").addEventListener("click", function () { show("#menu-events", true); $("#menu-events button").focus(); });
    $("#pick-builtin").addEventListener("click", function () { show("#menu-builtin", true); $("#pick-api").focus(); });
    $("#pick-api").addEventListener("click", function () {
      $("#pick-api").setAttribute("aria-pressed", "true");
      show("#menu-api", true); $("#menu-api .choice").focus();
    });
    $$("#menu-api .choice").forEach(function (b) {
      b.addEventListener("click", function () {
        $$("#menu-api .choice").forEach(function (o) { o.setAttribute("aria-pressed", "false"); });
        b.setAttribute("aria-pressed", "true");
        security.value = b.getAttribute("data-security");
        $("#close-event").disabled = false;
      });
    });
    $("#close-event").addEventListener("click", function () {
      show("#menu-events", false); show("#menu-builtin", false); show("#menu-api", false);
      show("#add-event", false); show("#when", false);
      var label = $("#menu-api .choice[aria-pressed=true]").textContent.trim();
      $("#event-summary").textContent = "API Endpoint — " + label;
      show("#event-card", true);
      $("#save-flow").disabled = false; $("#save-flow").focus();
    });
  }
})();
