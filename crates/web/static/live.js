// Keeps a page up to date with the signed-in person's tasks: when one arrives or closes
// (the `tasks` event of /me/inbox/events), the page reloads, unless the person is in the
// middle of a form; then it says so and lets them reload when they are ready. Without
// scripts the page works the same, only without the reload.
(function () {
  "use strict";
  if (!window.EventSource) {
    return;
  }
  var source = new EventSource("/me/inbox/events");
  function busy() {
    var active = document.activeElement;
    if (active && active.form) {
      return true;
    }
    var typed = document.querySelectorAll("textarea, input[type=text], input[type=url], input[type=number]");
    for (var i = 0; i < typed.length; i++) {
      if (typed[i].value !== typed[i].defaultValue) {
        return true;
      }
    }
    return false;
  }
  function offerReload() {
    if (document.getElementById("live-update")) {
      return;
    }
    var note = document.createElement("p");
    note.id = "live-update";
    note.className = "notice";
    note.setAttribute("role", "status");
    note.textContent = "Your tasks changed. ";
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = "Show them";
    button.addEventListener("click", function () { location.reload(); });
    note.appendChild(button);
    document.querySelector("main").prepend(note);
  }
  source.addEventListener("tasks", function () {
    if (busy()) {
      offerReload();
    } else {
      source.close();
      location.reload();
    }
  });
})();
