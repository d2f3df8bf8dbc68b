// Scroll each log pane so that its first-divergence line is in view (the page itself stays put).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("pre mark.div").forEach(function (mark) {
    var pre = mark.closest("pre");
    if (pre) { pre.scrollTop = Math.max(0, mark.offsetTop - pre.offsetTop - pre.clientHeight / 3); }
    document.body.setAttribute("data-div-scrolled", "1");  // lets a headless browser check this ran
  });
});
