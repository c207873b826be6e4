// An item's page at the desk: its label's print status turns to "printed" when the printer
// takes it (the print worker's audit event, through GET /events), without a reload.
(function () {
  "use strict";
  var status = document.getElementById("print-status");
  var facts = document.getElementById("taken-in");
  if (!status || !facts || status.dataset.status === "printed") {
    return;
  }
  var texts = JSON.parse(document.getElementById("item-texts").textContent);
  var itemId = Number(facts.dataset.itemId);
  var source = new EventSource("/events");
  source.addEventListener("ledger", function (event) {
    var data = JSON.parse(event.data);
    if (data.event === "print" && data.item_id === itemId) {
      status.dataset.status = "printed";
      status.textContent = texts.printed;
      source.close();
    }
  });
}());
