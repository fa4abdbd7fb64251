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

// Forms that change data (screening upload, watchlists) send the API token in the Authorization header,
// the only place the server reads a token from: never in the form body or the URL. The token field has no
// name, so a form submitted without this script carries no token (and the server answers 401).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form[data-auth]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var field = form.querySelector("[data-token]");
      var token = field ? field.value.trim() : "";
      var button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = true; }
      fetch(form.action, {
        method: "POST", body: new FormData(form), credentials: "same-origin",
        headers: { "Authorization": "Bearer " + token }
      }).then(function (response) {
        if (response.ok) {  // the server answered with a redirect to the result page, which fetch followed
          window.location.assign(response.url);
          return null;
        }
        return response.text().then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var found = doc.getElementById("error");
          showError(form, found ? found.textContent : ("HTTP " + response.status));
        });
      }).catch(function (err) {
        showError(form, String(err));
      }).finally(function () {
        if (button) { button.disabled = false; }
      });
    });
  });
});

function showError(form, text) {
  var box = document.getElementById("error");
  if (!box) {
    box = document.createElement("p");
    box.className = "error";
    box.id = "error";
    form.parentNode.insertBefore(box, form);
  }
  box.textContent = text;
}
