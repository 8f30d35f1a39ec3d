// Draws every chart of the page from the JSON figure beside it (no inline scripts: the
// Content-Security-Policy forbids them). plotly.js is served by Ashiato itself.
(function () {
  "use strict";
  function draw() {
    document.querySelectorAll("[data-figure]").forEach(function (holder) {
      var source = document.getElementById(holder.getAttribute("data-figure"));
      if (!source || !window.Plotly) { return; }
      var figure = JSON.parse(source.textContent);
      window.Plotly.newPlot(holder, figure.data, figure.layout, figure.config);
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
