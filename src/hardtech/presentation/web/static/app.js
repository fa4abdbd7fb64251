// Renders every chart on the page from its JSON spec (a <script type="application/json"> beside it).
// No inline scripts anywhere: the Content-Security-Policy forbids them.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".chart[data-spec]").forEach(function (el) {
    var src = document.getElementById(el.getAttribute("data-spec"));
    if (!src || typeof vegaEmbed !== "function") { return; }
    var spec = JSON.parse(src.textContent);
    vegaEmbed(el, spec, { renderer: "svg", actions: false }).then(function () {
      el.setAttribute("data-rendered", "true");
    }).catch(function (err) {
      el.textContent = String(err);
    });
  });
});
