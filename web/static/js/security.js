// The security screen: a new alert appears at the top of the list as it is raised (GET /events),
// with its own resolve form. Words come from the page (#security-texts), in its language.
(function () {
  "use strict";
  var texts = JSON.parse(document.getElementById("security-texts").textContent);
  var list = document.getElementById("security-alerts");
  var none = document.getElementById("no-alerts");

  var fill = KioskPage.fill;

  function localTime(iso) {
    var when = new Date(iso);
    return isNaN(when) ? "" : when.toLocaleString([], {dateStyle: "short", timeStyle: "short"});
  }

  function addAlert(data) {
    if (!data.alert_id || list.querySelector('[data-alert-id="' + Number(data.alert_id) + '"]')) {
      return;
    }
    var row = document.createElement("li");
    row.dataset.alertId = data.alert_id;
    row.dataset.kind = data.kind || "";
    row.className = "open fresh";
    var line = document.createElement("p");
    line.className = "alert-line";
    var strong = document.createElement("strong");
    strong.textContent = texts.kinds[data.kind] || data.kind || "";
    var badge = document.createElement("span");
    badge.className = "badge badge-overdue";
    badge.textContent = texts["new"];
    line.append(badge, " ", strong, " · ", fill("{ticket} · {device} · {time}",
      {ticket: data.ticket_no || "", device: data.device || "", time: localTime(data.at)}));
    var form = KioskPage.postForm("/security/alerts/" + Number(data.alert_id) + "/resolve", "inline-form resolve-form");
    var label = document.createElement("label");
    label.htmlFor = "note-" + Number(data.alert_id);
    label.textContent = texts.note;
    var note = document.createElement("input");
    note.id = label.htmlFor;
    note.name = "note";
    note.maxLength = 500;
    note.autocomplete = "off";
    var button = document.createElement("button");
    button.type = "submit";
    button.textContent = texts.resolve;
    form.append(label, note, button);
    row.append(line, form);
    list.prepend(row);
    none.hidden = true;
  }

  var source = new EventSource("/events");
  source.addEventListener("alert", function (event) {
    addAlert(JSON.parse(event.data));
  });
}());
