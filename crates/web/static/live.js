// Keeps a page up to date with the signed-in person's tasks: when one arrives or closes
// (the `tasks` event of /me/inbox/events), the page reloads, unless the person is in the
// middle of a form, or the page is the answer to a form (reloading it would post the form
// again); then it says so and lets them load the page when they are ready. Without scripts
// the page works the same, only without the update.
(function () {
  "use strict";
  if (!window.EventSource) {
    return;
  }
  // A refused action's page answers a POST to …/actions/<action>; its own page is the
  // address before that.
  var answered = /\/actions\/[^/]+$/.test(location.pathname);
  var here = answered ? location.pathname.replace(/\/actions\/[^/]+$/, "") : null;
  var source = null;
  var retry = 2000;
  function busy() {
    var active = document.activeElement;
    if (active && active.form) {
      return true;
    }
    var fields = document.querySelectorAll("main textarea, main input, main select");
    for (var i = 0; i < fields.length; i++) {
      var field = fields[i];
      if (field.type === "hidden") {
        continue;
      }
      if (field.type === "checkbox" ? field.checked !== field.defaultChecked : field.tagName === "SELECT" ? field.selectedIndex > 0 && !field.options[field.selectedIndex].defaultSelected : field.value !== field.defaultValue) {
        return true;
      }
    }
    return false;
  }
  function show() {
    if (here) {
      location.assign(here);
    } else {
      location.reload();
    }
  }
  function offer() {
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
    button.addEventListener("click", show);
    note.appendChild(button);
    document.querySelector("main").prepend(note);
  }
  function follow() {
    source = new EventSource("/me/inbox/events");
    source.addEventListener("open", function () { retry = 2000; });
    source.addEventListener("tasks", function () {
      if (answered || busy()) {
        offer();
      } else {
        source.close();
        location.reload();
      }
    });
    // A stream refused (too many open: another tab) or cut is not retried by the browser:
    // try again a little later, waiting longer each time.
    source.addEventListener("error", function () {
      if (source.readyState === EventSource.CLOSED) {
        setTimeout(follow, retry);
        retry = Math.min(retry * 2, 60000);
      }
    });
  }
  // A page left (or kept in the back-forward cache) gives its stream back at once.
  window.addEventListener("pagehide", function () {
    if (source) {
      source.close();
    }
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      follow();
    }
  });
  follow();
})();
