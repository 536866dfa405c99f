// Django admin, periodic task form (django-celery-beat): show the chosen crontab in words under its field.
// A file instead of the package's inline script, which the Content Security Policy blocks.
(function () {
  "use strict";
  function ready() {
    var data = document.getElementById("readable-crontabs");
    var select = document.getElementById("id_crontab");
    if (!data || !select) { return; }
    var readable = JSON.parse(data.textContent);
    var help = document.querySelector(".field-crontab .help");
    var original = help ? help.textContent : "";
    var translation = document.querySelector(".field-crontab_translation");
    if (translation) { translation.hidden = true; }
    function update() {
      if (!help) { return; }
      help.textContent = original;
      var words = readable[select.value];
      if (words) {
        help.appendChild(document.createElement("br"));
        help.appendChild(document.createTextNode("Translation: " + words));
      }
    }
    select.addEventListener("change", update);
    update();
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", ready); } else { ready(); }
})();
