/* The queue's keyboard triage and the item page's focus on the assessment form.
   No inline scripts (CSP): everything hangs off data-* attributes.
     j / k  move the focused row       a  assess it (its page, at the form)
     h      hold it                    r  refer it (draft batch, kind from the bulk form)
     x      toggle its selection
   Key presses in inputs, selects and text areas are ignored. */
(function () {
  "use strict";

  function typing(evt) {
    var t = evt.target;
    if (!(t instanceof Element)) { return false; }
    return t.closest("input, select, textarea, [contenteditable]") !== null;
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-queue] tbody tr[data-item-id]"));
  }

  function current() {
    return document.querySelector("[data-queue] tr.is-focused");
  }

  function focusRow(row) {
    var old = current();
    if (old) {
      old.classList.remove("is-focused");
      old.removeAttribute("aria-current");
    }
    if (!row) { return; }
    row.classList.add("is-focused");
    row.setAttribute("aria-current", "true");
    row.setAttribute("tabindex", "-1");
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    var all = rows();
    if (!all.length) { return; }
    var i = all.indexOf(current());
    var next = i < 0 ? 0 : Math.min(all.length - 1, Math.max(0, i + step));
    focusRow(all[next]);
  }

  function post(action, fields) {
    var form = document.createElement("form");
    form.method = "post";
    form.action = action;
    form.hidden = true;
    var all = [["csrf_token", window.takedown ? window.takedown.csrfToken() : ""]].concat(fields);
    all.forEach(function (pair) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = pair[0];
      input.value = pair[1] || "";
      form.appendChild(input);
    });
    document.body.appendChild(form);
    form.submit();
  }

  // "h": a hold needs a reason, so ask for it in a dialog (Esc or Cancel closes it).
  function askHoldReason(id) {
    var dialog = document.getElementById("hold-dialog");
    if (!dialog || typeof dialog.showModal !== "function") { return; }
    dialog.querySelector("[data-hold-item-id]").value = id;
    dialog.querySelector("[data-hold-item-label]").textContent = id;
    var reason = dialog.querySelector('input[name="reason"]');
    reason.value = "";
    dialog.showModal();
    reason.focus();
  }
  document.addEventListener("click", function (evt) {
    var t = evt.target;
    if (t instanceof Element && t.closest("[data-hold-cancel]")) {
      var dialog = t.closest("dialog");
      if (dialog) { dialog.close(); }
    }
  });

  function backValue() {
    var back = document.querySelector('#bulk input[name="back"]');
    return back ? back.value : "/queue";
  }

  document.addEventListener("keydown", function (evt) {
    if (evt.altKey || evt.ctrlKey || evt.metaKey || typing(evt)) { return; }
    if (!document.querySelector("[data-queue]")) { return; }
    var row = current();
    var id = row ? row.getAttribute("data-item-id") : null;
    switch (evt.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "a":
        if (id) { window.location.assign("/items/" + id + "#assess"); }
        break;
      case "h":
        if (id) { askHoldReason(id); }
        break;
      case "r":
        if (id) {
          var kind = document.querySelector("[data-refer-kind]");
          post("/referrals/new", [["item_ids", id], ["kind", kind ? kind.value : "tos"]]);
        }
        break;
      case "x":
        if (row) {
          var box = row.querySelector('input[type="checkbox"][name="item_ids"]');
          if (box) { box.checked = !box.checked; }
        }
        break;
      default:
        return;
    }
    evt.preventDefault();
  });

  // A click on a row (not on its link or checkbox) focuses it for the keyboard.
  document.addEventListener("click", function (evt) {
    var t = evt.target;
    if (!(t instanceof Element) || t.closest("a, input, button, label")) { return; }
    var row = t.closest("[data-queue] tbody tr[data-item-id]");
    if (row) { focusRow(row); }
  });

  // The item page opened with #assess (the queue's "a"): focus the verdict. After "load",
  // so the browser's own scroll to the fragment does not take the focus back.
  function focusVerdict() {
    if (window.location.hash !== "#assess" || document.querySelector(".error-summary")) { return; }
    var verdict = document.getElementById("f-verdict");
    if (verdict) { verdict.focus(); }
  }
  if (document.readyState === "complete") { focusVerdict(); } else { window.addEventListener("load", focusVerdict); }
})();
