// The staff console's only script: a page with a `data-live` element keeps
// it up to date. The server says "change" over server-sent events; the
// page fetches the element's fresh HTML (the server renders it, escaped)
// and swaps it in. Without this script every page still works by reload.
"use strict";
(function () {
  const live = document.querySelector("[data-live]");
  if (!live || !window.EventSource) return;
  const status = document.getElementById("live-status");
  let pending = false;
  async function refresh() {
    if (pending) return;
    pending = true;
    try {
      const r = await fetch(live.dataset.fragment, { credentials: "same-origin", cache: "no-store", headers: { "X-Console-Live": "1" } });
      if (r.redirected || r.status === 401) { window.location.reload(); return; }
      if (r.ok) {
        live.innerHTML = await r.text();
        if (status) status.textContent = status.dataset.updated + " " + new Date().toLocaleTimeString(document.documentElement.lang);
      }
    } finally {
      pending = false;
    }
  }
  const events = new EventSource(live.dataset.live);
  events.addEventListener("change", refresh);
  events.onerror = function () {
    live.dataset.state = "lost";
    if (status) status.textContent = status.dataset.lost;
  };
  events.onopen = function () {
    live.dataset.state = "live";
    if (status) status.textContent = status.dataset.connected;
  };
})();
