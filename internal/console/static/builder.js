// Vigil console: the card builder's field picker. The builder works without
// it — fields can be typed and every button posts the form — but with it a
// click on a field of the sample event or the last run writes the jq that
// reads it into the box being edited.
(function () {
  "use strict";
  var form = document.querySelector("[data-builder]");
  if (!form) return;

  function announce(msg) {
    var live = document.getElementById("live");
    if (live) { live.textContent = ""; setTimeout(function () { live.textContent = msg; }, 30); }
  }

  // The picker writes into the last box of a card that had the focus.
  var last = null;
  form.addEventListener("focusin", function (e) {
    if (e.target.classList && e.target.classList.contains("pickable")) {
      if (last) last.classList.remove("picking");
      last = e.target;
      last.classList.add("picking");
    }
  });

  // jqString escapes text for a jq string literal.
  function jqString(s) {
    return s.replace(/\\/g, "\\\\").replace(/"/g, "\\\"").replace(/\n/g, "\\n");
  }

  function putAtCursor(el, text) {
    var v = el.value, s = el.selectionStart, e = el.selectionEnd;
    if (s == null) { s = e = v.length; }
    el.value = v.slice(0, s) + text + v.slice(e);
    el.selectionStart = el.selectionEnd = s + text.length;
  }

  // insert writes expr into el: a jq condition takes it as is; an empty box
  // becomes ${ expr }; an expression gets it at the cursor; literal text
  // becomes a jq string that interpolates it.
  function insert(el, expr) {
    var v = el.value;
    if (el.hasAttribute("data-bare")) { putAtCursor(el, expr); return; }
    if (v.trim() === "") { el.value = "${ " + expr + " }"; return; }
    var open = v.indexOf("${"), close = v.lastIndexOf("}");
    if (/^\s*\$\{[\s\S]*\}\s*$/.test(v)) {
      var s = el.selectionStart;
      if (s != null && s > open + 1 && s <= close && s !== v.length) { putAtCursor(el, expr); return; }
      el.value = v.slice(0, close).replace(/\s*$/, " ") + expr + " }" + v.slice(close + 1);
      return;
    }
    el.value = "${ \"" + jqString(v) + "\\(" + expr + ")\" }";
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-picker] .pick"), function (b) {
    b.addEventListener("click", function () {
      if (!last) { announce("Click a box of a card first, then the field."); return; }
      insert(last, b.getAttribute("data-expr"));
      last.dispatchEvent(new Event("input", { bubbles: true }));
      last.focus();
      announce("Added " + b.getAttribute("data-expr"));
    });
  });

  // A changed function fills in its arguments.
  Array.prototype.forEach.call(form.querySelectorAll("[data-refill]"), function (el) {
    el.addEventListener("change", function () {
      var btn = form.querySelector("[data-refill-button='" + el.getAttribute("data-refill") + "']");
      if (btn && el.value.trim() !== "") btn.click();
    });
  });

  // Choosing a helper flow fills in its namespace and name.
  Array.prototype.forEach.call(form.querySelectorAll("[data-fill-helper]"), function (sel) {
    sel.addEventListener("change", function () {
      var o = sel.options[sel.selectedIndex], p = sel.getAttribute("data-fill-helper");
      if (!o || !o.getAttribute("data-name")) return;
      form.querySelector("[name='" + p + ".ns']").value = o.getAttribute("data-ns");
      form.querySelector("[name='" + p + ".wf']").value = o.getAttribute("data-name");
    });
  });

  // Each button re-renders the page; come back to where the user was.
  var key = "vigil-builder-scroll:" + location.pathname;
  form.addEventListener("submit", function () {
    try { sessionStorage.setItem(key, String(window.scrollY)); } catch (e) {}
  });
  try {
    var y = sessionStorage.getItem(key);
    if (y !== null) { sessionStorage.removeItem(key); window.scrollTo(0, parseInt(y, 10) || 0); }
  } catch (e) {}
})();
