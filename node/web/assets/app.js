/* app.js: the little script of the village desk (compiled into gridnode).
   The pages work without it; it adds confirmations and a helper for the
   JSON API that sends the session's CSRF token. No framework, no CDN. */
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";

  /* gs.api("POST", "/api/...", {..}) -> Promise of {status, body} */
  function api(method, path, body) {
    var opts = { method: method, credentials: "same-origin",
                 headers: { "X-CSRF-Token": csrf, "Accept": "application/json" } };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(path, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        return { status: r.status, body: j };
      });
    });
  }
  window.gs = { api: api, csrf: csrf };

  /* <button data-confirm="确定删除？"> asks first */
  document.addEventListener("click", function (e) {
    var t = e.target.closest ? e.target.closest("[data-confirm]") : null;
    if (t && !window.confirm(t.getAttribute("data-confirm"))) e.preventDefault();
  });
  /* <button data-print> prints the page */
  document.addEventListener("click", function (e) {
    var t = e.target.closest ? e.target.closest("[data-print]") : null;
    if (t) { e.preventDefault(); window.print(); }
  });
})();
