// Blur toggle for the evidence viewer. A static file: the CSP forbids inline scripts.
"use strict";
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-ev-toggle]");
  if (!button) { return; }
  var group = button.closest("[data-ev-group]");
  if (!group) { return; }
  var revealed = group.classList.toggle("ev-revealed");
  button.setAttribute("aria-pressed", revealed ? "true" : "false");
  button.textContent = revealed ? "Blur content" : "Show content";
});
