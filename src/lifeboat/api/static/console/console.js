// lifeboat console: the little script the pages need (no inline script: the CSP forbids it).
// - <time datetime="..."> shows the viewer's local time; its title keeps UTC on hover.
// - <form data-confirm="..."> asks before submitting (delete, regenerate). Not the switch: typing the
//   passkey is its confirmation, and a dialog would stand between an operator and the switch.
(function () {
  "use strict";
  var format = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit",
    timeZoneName: "short"
  });

  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var moment = new Date(el.getAttribute("datetime"));
      if (!isNaN(moment)) { el.textContent = format.format(moment); }
    });
  }

  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  }, true);

  // A refused inline change (403, 422) still answers with its row and the reason: show it.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr.status >= 400 && xhr.getResponseHeader("X-Lifeboat-Fragment")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("DOMContentLoaded", function () { localTimes(document); });
  document.addEventListener("htmx:afterSwap", function (event) { localTimes(event.target); });
})();
