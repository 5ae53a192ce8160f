// Polls a job's JSON status and updates the progress bar until the job ends.
(function () {
  "use strict";
  var box = document.querySelector("[data-job-url]");
  if (!box) return;
  function set(sel, text) { var el = box.querySelector(sel); if (el) el.textContent = text; }
  function poll() {
    fetch(box.dataset.jobUrl, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (job) {
        box.querySelector("[data-job-bar]").value = job.percent;
        set("[data-job-state]", job.state_label);
        set("[data-job-done]", job.done);
        set("[data-job-total]", job.total);
        set("[data-job-failed]", job.failed);
        if (job.error) { set("[data-job-error]", job.error); box.querySelector("[data-job-error]").hidden = false; }
        if (job.state === "done" && job.has_result) box.querySelector("[data-job-result]").hidden = false;
        if (job.state === "queued" || job.state === "running") setTimeout(poll, 1500);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  poll();
})();
