// The desk's only script of its own. Everything works without it; it adds the CSRF
// token to htmx requests and asks before bulk actions.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  document.addEventListener("htmx:configRequest", function (event) {
    if (meta) { event.detail.headers["X-CSRFToken"] = meta.getAttribute("content"); }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); return; }
    // One click, one action: a second click while the first is on its way is ignored.
    if (form.getAttribute("data-submitted") === "yes") { event.preventDefault(); return; }
    if ((form.getAttribute("method") || "get").toLowerCase() === "post") { form.setAttribute("data-submitted", "yes"); }
  });
  // "Select all" boxes for bulk actions.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("input[data-select-all]")) { return; }
    var name = box.getAttribute("data-select-all");
    document.querySelectorAll('input[type="checkbox"][name="' + name + '"]').forEach(function (other) {
      other.checked = box.checked;
    });
  });
})();
