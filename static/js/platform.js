// Large-text mode for older members: remembered on this device.
(function () {
  var KEY = "platform-large-text";
  var root = document.documentElement;
  try {
    if (window.localStorage.getItem(KEY) === "1") root.classList.add("large-text");
  } catch (e) { /* storage may be disabled inside some in-app browsers */ }
  document.addEventListener("DOMContentLoaded", function () {
    var on = root.classList.contains("large-text") ? "true" : "false";
    document.querySelectorAll("[data-toggle-large-text]").forEach(function (button) {
      button.setAttribute("aria-pressed", on);
    });
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-toggle-large-text]");
    if (!button) return;
    var on = root.classList.toggle("large-text");
    button.setAttribute("aria-pressed", on ? "true" : "false");
    try { window.localStorage.setItem(KEY, on ? "1" : "0"); } catch (e) { /* ignore */ }
  });
})();
