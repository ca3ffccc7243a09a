/* sync.js: progress of a sync on the 同步 page: polls /api/sync every
 * second while one runs and shows the result in words; reloads the page
 * once it has finished (the counts and the last sync time). Without
 * JavaScript the page refreshes itself (<noscript> meta refresh). */
(function () {
  "use strict";
  var box = document.getElementById("sync-state");
  if (!box) return;
  var button = document.getElementById("sync-button");
  function poll() {
    fetch("/api/sync", { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        box.textContent = s.text;
        box.className = "sync-state " + s.state;
        box.setAttribute("data-state", s.state);
        if (button) button.disabled = s.state === "running";
        if (s.state === "running") setTimeout(poll, 1000);
        else if (box.getAttribute("data-was") === "running") location.replace("/sync");
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  if (box.getAttribute("data-state") === "running") {
    box.setAttribute("data-was", "running");
    setTimeout(poll, 1000);
  }
})();
