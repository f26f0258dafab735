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

  // A <span class="countdown" data-deadline="ISO time"> counts down to its deadline each minute
  // (the server wrote the same text when it drew the page).
  function span(minutes) {
    var hours = Math.floor(minutes / 60);
    var rest = minutes % 60;
    return hours ? hours + " h " + (rest < 10 ? "0" : "") + rest + " min" : rest + " min";
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll(".countdown[data-deadline]").forEach(function (element) {
      var due = Date.parse(element.getAttribute("data-deadline"));
      if (isNaN(due)) {
        return;
      }
      var minutes = Math.floor(Math.abs(due - now) / 60000);
      element.textContent = due >= now ? span(minutes) + " left" : "overdue by " + span(minutes);
      element.classList.toggle("countdown-overdue", due < now);
    });
  }

  if (document.querySelector(".countdown[data-deadline]")) {
    tick();
    window.setInterval(tick, 30000);
  }

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
