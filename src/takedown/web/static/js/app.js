/* takedown's own browser code. No inline scripts anywhere (the CSP forbids them):
   behaviour hangs off data-* attributes and htmx events. */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : null;
  }

  // Every htmx request carries the session's CSRF token (checked by accounts.deps).
  document.addEventListener("htmx:configRequest", function (evt) {
    var token = csrfToken();
    if (token) {
      evt.detail.headers["X-CSRF-Token"] = token;
    }
  });

  function showNotice(level, text) {
    var area = document.getElementById("flash");
    if (!area) { return; }
    var div = document.createElement("div");
    div.className = "notice notice-" + level;
    div.textContent = text;
    area.replaceChildren(div);
  }
  window.takedown = { showNotice: showNotice, csrfToken: csrfToken };

  document.addEventListener("htmx:sendError", function () {
    showNotice("error", "The server could not be reached. Check your connection and try again.");
  });

  // <form data-confirm="..."> asks before submitting (revoke, delete, reset).
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm) {
      if (!window.confirm(form.dataset.confirm)) {
        evt.preventDefault();
      }
    }
  }, true);

  // <button data-copy="#selector"> copies that element's text.
  document.addEventListener("click", function (evt) {
    var target = evt.target;
    if (!(target instanceof Element)) { return; }
    var btn = target.closest("[data-copy]");
    if (!btn) { return; }
    var el = document.querySelector(btn.getAttribute("data-copy"));
    if (!el) { return; }
    var text = (el.textContent || "").trim();
    var done = function () { btn.textContent = "Copied"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { selectText(el); });
    } else {
      selectText(el);
    }
  });

  function selectText(el) {
    var range = document.createRange();
    range.selectNodeContents(el);
    var sel = window.getSelection();
    if (sel) { sel.removeAllRanges(); sel.addRange(range); }
  }

  // <input type="checkbox" data-select-all="FORM_ID"> checks or clears every checkbox that
  // belongs to that form (form="FORM_ID"): the portal's "select all" for Annex II.
  document.addEventListener("change", function (evt) {
    var box = evt.target;
    if (!(box instanceof HTMLInputElement) || !box.hasAttribute("data-select-all")) { return; }
    var form = box.getAttribute("data-select-all");
    document.querySelectorAll('input[type="checkbox"][form="' + form + '"]').forEach(function (b) {
      if (b instanceof HTMLInputElement) { b.checked = box.checked; }
    });
  });

  // Move focus to the error summary after a failed submit, so screen readers announce it.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("[data-autofocus]");
    if (summary instanceof HTMLElement) { summary.focus(); }
  });
})();
