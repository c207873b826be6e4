// The desk page: pending pickups from the kiosk and security alerts appear as they happen
// (GET /events). Its words come from the page (#desk-texts), in the page's language.
(function () {
  "use strict";
  var texts = JSON.parse(document.getElementById("desk-texts").textContent);
  var pending = document.getElementById("pending");
  var empty = document.getElementById("pending-empty");
  var alerts = document.getElementById("alerts");

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) {
      return values[key] === undefined || values[key] === null ? "" : String(values[key]);
    });
  }

  function localTime(iso) {
    var when = new Date(iso);
    return isNaN(when) ? "" : when.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});
  }

  function addPending(data) {
    if (pending.querySelector('[data-ticket="' + CSS.escape(data.ticket_no) + '"]')) {
      return;  // the same stub scanned twice: shown once
    }
    var row = document.createElement("li");
    row.dataset.ticket = data.ticket_no;
    var ticket = document.createElement("strong");
    ticket.textContent = data.ticket_no;
    var where = document.createElement("span");
    where.className = "pending-location";
    where.textContent = texts.locations[data.location] || data.location || "";
    var since = document.createElement("span");
    since.className = "pending-since";
    since.textContent = fill(texts.waiting_since, {time: localTime(data.at)});
    row.append(ticket, " · ", (data.owner && data.owner.unit) || "", " · ", where, " · ", since);
    pending.appendChild(row);  // oldest first: the stream delivers in order
    empty.hidden = true;
  }

  function removePending(ticketNo) {
    var row = ticketNo && pending.querySelector('[data-ticket="' + CSS.escape(ticketNo) + '"]');
    if (row) {
      row.remove();
    }
    empty.hidden = pending.children.length > 0;
  }

  function addAlert(text) {
    var row = document.createElement("li");
    row.textContent = text;
    alerts.prepend(row);
  }

  var source = new EventSource("/events");
  source.addEventListener("pending_pickup", function (event) {
    addPending(JSON.parse(event.data));
  });
  source.addEventListener("ledger", function (event) {
    var data = JSON.parse(event.data);
    if (data.event === "release") {
      removePending(data.ticket_no);
    }
  });
  source.addEventListener("alert", function (event) {
    var data = JSON.parse(event.data);
    addAlert(fill(texts.alert, {kind: data.kind, ticket: data.ticket_no, device: data.device}));
  });
  source.addEventListener("assist", function (event) {
    addAlert(fill(texts.assist, JSON.parse(event.data)));
  });
}());
