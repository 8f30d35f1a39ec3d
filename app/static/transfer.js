// Follows a transfer job (export or import) on its page: reads the job's JSON from the API
// (data-transfer-status) every couple of seconds, moves the progress bar, and reloads the page
// once the job is done so that it shows the download link or the receipt. A static file: the
// Content-Security-Policy forbids inline scripts. Its words come from the page (data-word-*).
(function () {
  "use strict";
  var INTERVAL_MS = 1500;
  var RETRY_MS = 4000;

  function follow(box) {
    var url = box.getAttribute("data-transfer-status");
    var bar = box.querySelector("progress");
    var progressText = box.querySelector("[data-progress-text]");
    var statusText = box.querySelector("[data-status-text]");
    var shown = box.getAttribute("data-status");

    function word(name) {
      return box.getAttribute("data-word-" + name) || name;
    }

    function show(job) {
      var total = Number(job.progress_total) || 0;
      var done = Number(job.progress_done) || 0;
      if (total > 0) {
        bar.max = total;
        bar.value = Math.min(done, total);
        progressText.textContent = done + " / " + total;
      }
      if (job.status === "queued" || job.status === "running") {
        statusText.textContent = word(job.status);
      }
    }

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (answer) {
          if (!answer.ok) { throw new Error("HTTP " + answer.status); }
          return answer.json();
        })
        .then(function (job) {
          show(job);
          if (job.status !== shown && job.status !== "queued" && job.status !== "running") {
            window.location.reload(); // finished, failed, or waiting for a choice
            return;
          }
          window.setTimeout(poll, INTERVAL_MS);
        })
        .catch(function () {
          statusText.textContent = word("lost");
          window.setTimeout(poll, RETRY_MS);
        });
    }

    window.setTimeout(poll, INTERVAL_MS);
  }

  function start() {
    document.querySelectorAll("[data-transfer-status]").forEach(follow);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
