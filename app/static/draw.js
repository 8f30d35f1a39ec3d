// The drawing pad of the artifact form: pen, finger or mouse; the picture is sent as a PNG.
(function () {
  "use strict";
  var canvas = document.getElementById("canvas");
  if (!canvas) { return; }
  var ctx = canvas.getContext("2d"), drawn = false, down = false;
  ctx.lineWidth = 6; ctx.lineCap = "round"; ctx.strokeStyle = "#1d2430";
  function at(e) {
    var r = canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height];
  }
  canvas.addEventListener("pointerdown", function (e) { down = true; var p = at(e); ctx.beginPath(); ctx.moveTo(p[0], p[1]); });
  canvas.addEventListener("pointermove", function (e) { if (!down) { return; } var p = at(e); ctx.lineTo(p[0], p[1]); ctx.stroke(); drawn = true; });
  window.addEventListener("pointerup", function () { down = false; });
  document.getElementById("clear-drawing").addEventListener("click", function () {
    ctx.clearRect(0, 0, canvas.width, canvas.height); drawn = false;
  });
  document.getElementById("entry-form").addEventListener("submit", function () {
    if (drawn) { document.getElementById("drawing").value = canvas.toDataURL("image/png"); }
  });
})();
