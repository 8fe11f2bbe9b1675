// Starts Swagger UI on the generated document. A file rather than an inline script, so that the
// page's Content-Security-Policy can forbid inline scripts.
window.ui = SwaggerUIBundle({
  url: "/api/v1/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null, // no call to the public validator: the page works offline
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
