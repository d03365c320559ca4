// Fills the summary shell as sections arrive (NDJSON stream), and retries a failed section.
(function () {
  "use strict";
  var root = document.getElementById("summary");
  if (!root) { return; }
  var status = document.getElementById("load-status");
  var url = root.getAttribute("data-sections-url");

  function place(key, html) {
    if (key === "done") { return; }
    var id = key === "banner" ? "patient-banner" : key.indexOf("glance-") === 0 ? key : "section-" + key;
    var target = document.getElementById(id);
    if (key === "error") { target = status; }
    if (!target) { return; }
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var node = holder.firstElementChild;
    if (node) { target.replaceWith(node); } else if (key === "banner") { target.remove(); }
  }

  function load(query) {
    root.setAttribute("aria-busy", "true");
    return fetch(url + (query || ""), { credentials: "same-origin", headers: { "Accept": "application/x-ndjson" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        var reader = response.body.getReader();
        var decoder = new TextDecoder();
        var buffer = "";
        function pump() {
          return reader.read().then(function (chunk) {
            buffer += decoder.decode(chunk.value || new Uint8Array(), { stream: !chunk.done });
            var lines = buffer.split("\n");
            buffer = lines.pop();
            lines.forEach(function (line) {
              if (line) { var msg = JSON.parse(line); place(msg.key, msg.html); }
            });
            if (!chunk.done) { return pump(); }
          });
        }
        return pump();
      })
      .then(function () {
        root.setAttribute("aria-busy", "false");
        var failed = root.querySelectorAll('[data-state="failed"]').length;
        if (status) {
          status.textContent = failed ? failed + " part(s) could not be loaded." : "Up to date with the EHR.";
        }
      })
      .catch(function () {
        root.setAttribute("aria-busy", "false");
        if (status) { status.textContent = "The summary could not be loaded. Reload the page to try again."; }
      });
  }

  root.addEventListener("click", function (event) {
    var button = event.target.closest("[data-retry]");
    if (!button) { return; }
    button.disabled = true;
    button.textContent = "Loading…";
    load("?only=" + encodeURIComponent(button.getAttribute("data-retry")));
  });

  // A section folded or opened again by the reader is remembered for this user (best effort). A click
  // on a summary (Enter and Space included) comes before the toggle: open now means folded next.
  var foldForm = document.getElementById("fold-form");
  root.addEventListener("click", function (event) {
    var head = event.target.closest("details[data-fold] > summary");
    if (!foldForm || !head) { return; }
    var body = new FormData(foldForm);
    body.append("section", head.parentElement.getAttribute("data-fold"));
    body.append("folded", head.parentElement.open ? "1" : "0");
    fetch(foldForm.action, { method: "POST", body: body, credentials: "same-origin" }).catch(function () {});
  });

  load("");
})();
