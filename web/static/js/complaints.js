// The complaints list: when a complaint is taken, moved on, replied to or its reply falls
// overdue (a "complaint" event on GET /events), the page reads itself again and swaps in its
// lists, so the owner's desk shows a kiosk filing or a broken promise without a reload.
(function () {
  "use strict";
  var texts = JSON.parse(document.getElementById("complaints-texts").textContent);
  var note = document.getElementById("live-note");
  var PARTS = ["late", "complaint-list"];
  var pending = null;

  function refresh() {
    pending = null;
    fetch(window.location.href, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        PARTS.forEach(function (id) {
          var now = document.getElementById(id);
          var next = fresh.getElementById(id);
          if (now && next) { now.replaceWith(document.importNode(next, true)); }
        });
        var tabs = document.querySelector("nav.tabs");
        var freshTabs = fresh.querySelector("nav.tabs");
        if (tabs && freshTabs) { tabs.replaceWith(document.importNode(freshTabs, true)); }
        note.textContent = texts.updated;
      })
      .catch(function () { /* the next event, or a reload, brings it */ });
  }

  function listen() {
    var source = new EventSource("/events");
    source.addEventListener("complaint", function () {
      // Several steps in one moment (an unsatisfied follow-up reopens at once): read the page once.
      if (pending === null) { pending = window.setTimeout(refresh, 200); }
    });
    source.addEventListener("open", function () { document.body.dataset.live = "open"; });
    source.addEventListener("error", function () {
      delete document.body.dataset.live;
      // Refused (the server's streams are all taken, 503): the browser gives up; try again soon,
      // and read the page then, for what happened meanwhile.
      if (source.readyState === EventSource.CLOSED) {
        window.setTimeout(function () { listen(); refresh(); }, 3000);
      }
    });
  }
  listen();
}());
