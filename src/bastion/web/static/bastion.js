// Bastion console: small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  // A <select data-autosubmit> submits its form as soon as the choice changes.
  function autosubmit(event) {
    var target = event.target;
    if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
      if (typeof target.form.requestSubmit === "function") {
        target.form.requestSubmit();
      } else {
        target.form.submit();
      }
    }
  }

  document.addEventListener("change", autosubmit);
})();
