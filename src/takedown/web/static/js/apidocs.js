// Starts Swagger UI or ReDoc on /docs and /redoc. A file of our own, not an inline
// script: the app's CSP allows scripts from its own origin only.
(function () {
  "use strict";
  var swagger = document.getElementById("swagger-ui");
  if (swagger && window.SwaggerUIBundle) {
    window.SwaggerUIBundle({
      url: swagger.dataset.openapiUrl,
      dom_id: "#swagger-ui",
      deepLinking: true,
      // About 130 operations: one line per capability (tag), opened on a click, and a
      // filter box that narrows the tags.
      docExpansion: "none",
      filter: true,
      // No calls home: the validator badge would ask validator.swagger.io.
      validatorUrl: null,
    });
  }
  var redoc = document.getElementById("redoc");
  if (redoc && window.Redoc) {
    window.Redoc.init(
      redoc.dataset.openapiUrl,
      // Its search runs in a blob: worker, which the CSP refuses; Swagger UI filters.
      { nonce: redoc.dataset.nonce, disableSearch: true },
      redoc,
    );
  }
})();
