// /api/v1/docs: Swagger UI from the package's own files (no CDN, no validator badge). Writes
// tried from the page carry the session's CSRF token like the rest of the UI.
/* global SwaggerUIBundle */
const root = document.getElementById("swagger-ui");

function csrfToken() {
  const found = document.cookie.split("; ").find((c) => c.startsWith("demine_csrf="));
  return found ? decodeURIComponent(found.slice("demine_csrf=".length)) : "";
}

root.replaceChildren();
window.demineDocs = SwaggerUIBundle({
  url: root.dataset.openapi,
  domNode: root,
  deepLinking: false, // its links sit inside buttons (axe: nested-interactive)
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  requestInterceptor: (request) => {
    const token = csrfToken();
    if (token && request.method && request.method.toUpperCase() !== "GET") {
      request.headers["X-CSRF-Token"] = token;
    }
    return request;
  },
});
