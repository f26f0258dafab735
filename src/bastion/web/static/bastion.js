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

  // The hunt page's column browser: a column's button inserts its quoted name into the query.
  function insertColumn(event) {
    var button = event.target instanceof Element ? event.target.closest("[data-insert]") : null;
    var editor = document.getElementById("sql");
    if (!button || !(editor instanceof HTMLTextAreaElement)) {
      return;
    }
    var text = button.getAttribute("data-insert") || "";
    var start = editor.selectionStart, end = editor.selectionEnd;
    editor.value = editor.value.slice(0, start) + text + editor.value.slice(end);
    editor.selectionStart = editor.selectionEnd = start + text.length;
    editor.focus();
  }

  document.addEventListener("click", insertColumn);
})();
