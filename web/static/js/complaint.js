// One complaint's page: when someone else moves it on, replies or reassigns it (a "complaint"
// event on GET /events), say so and offer the latest, without throwing away what is being typed.
(function () {
  "use strict";
  var facts = document.getElementById("complaint");
  var notice = document.getElementById("changed");
  if (!facts || !notice) { return; }
  var id = Number(facts.dataset.complaintId);
  var leaving = false;
  document.addEventListener("submit", function () { leaving = true; });  // our own change is coming back
  function listen() {
    var source = new EventSource("/events");
    source.addEventListener("complaint", function (event) {
      var data = JSON.parse(event.data);
      if (data.complaint_id === id && !leaving) {
        notice.hidden = false;
      }
    });
    source.addEventListener("open", function () { facts.dataset.live = "open"; });
    source.addEventListener("error", function () {
      delete facts.dataset.live;
      // Refused (the server's streams are all taken, 503): the browser gives up; try again soon.
      if (source.readyState === EventSource.CLOSED) { window.setTimeout(listen, 3000); }
    });
  }
  listen();
}());
