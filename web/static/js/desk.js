// The desk page: pending pickups from the kiosk, who is fetching each, overdue keys and security
// alerts appear as they happen (GET /events); the deposit form offers the unit's known owners
// (GET /desk/owners). Its words come from the page (#desk-texts), in the page's language.
(function () {
  "use strict";
  var texts = JSON.parse(document.getElementById("desk-texts").textContent);
  var pending = document.getElementById("pending");
  var empty = document.getElementById("pending-empty");
  var alerts = document.getElementById("alerts");
  var keyAlerts = document.getElementById("key-alerts");

  var fill = KioskPage.fill;

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
    row.append(ticket, " · ", (data.owner && data.owner.unit) || "", " · ", where, " · ", since, " ");
    if (data.item_id) {
      row.dataset.itemId = data.item_id;
      row.appendChild(takeButton(data.item_id));
    }
    pending.appendChild(row);  // oldest first: the stream delivers in order
    empty.hidden = true;
  }

  function takeButton(itemId) {
    // The same form the page renders: a CSRF-protected POST that marks the pickup in hand.
    var form = KioskPage.postForm("/desk/pickups/" + encodeURIComponent(itemId) + "/in-hand", "inline take");
    var button = document.createElement("button");
    button.type = "submit";
    button.textContent = texts.fetch;
    form.append(button);
    return form;
  }

  function markInHand(ticketNo, name) {
    var row = ticketNo && pending.querySelector('[data-ticket="' + CSS.escape(ticketNo) + '"]');
    if (!row) {
      return;
    }
    var form = row.querySelector("form.take");
    if (form) {
      form.remove();
    }
    var mark = row.querySelector(".in-hand") || document.createElement("span");
    mark.className = "in-hand";
    mark.textContent = fill(texts.in_hand, {name: name});
    row.appendChild(mark);
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
    } else if (data.event === "in_hand") {
      markInHand(data.ticket_no, data.by);
    }
  });
  source.addEventListener("alert", function (event) {
    var data = JSON.parse(event.data);
    var keyText = texts.key_alerts[data.kind];
    if (keyText && keyAlerts) {
      var row = document.createElement("li");
      row.className = "overdue";
      row.dataset.alert = data.kind;
      row.textContent = fill(keyText, {ticket: data.ticket_no});
      keyAlerts.prepend(row);
      return;
    }
    var kind = texts.alert_kinds[data.kind] || data.kind;
    addAlert(fill(texts.alert, {kind: kind, ticket: data.ticket_no || "", device: data.device || ""}));
  });
  source.addEventListener("assist", function (event) {
    addAlert(fill(texts.assist, JSON.parse(event.data)));
  });

  // --- the deposit form: common pickup times as one click each ---
  var presets = document.getElementById("pickup-presets");
  var pickup = document.getElementById("expected_pickup");
  if (presets && pickup) {
    presets.hidden = false;
    presets.querySelectorAll("button.preset").forEach(function (button) {
      button.addEventListener("click", function () {
        pickup.value = button.dataset.value;
        presets.querySelectorAll("button.preset").forEach(function (other) {
          other.setAttribute("aria-pressed", other === button ? "true" : "false");
        });
      });
      button.setAttribute("aria-pressed", "false");
    });
  }

  // --- the deposit form: the unit's known owners, picked with the keyboard or a click ---
  var unit = document.getElementById("owner_unit");
  var name = document.getElementById("owner_name");
  var phone = document.getElementById("owner_phone");
  var ref = document.getElementById("owner_ref");
  var box = document.getElementById("owner-suggestions-box");
  var list = document.getElementById("owner-suggestions");
  var known = document.getElementById("owner-known");
  var knownPhone = document.getElementById("owner-known-phone");
  if (!unit || !name || !ref || !list) {
    return;
  }
  var timer = null;
  var asked = "";
  var picked = ref.value ? {unit: unit.value, name: name.value} : null;

  function forget() {
    // Typing another unit or name after picking someone: that person's phone no longer applies.
    if (picked && (picked.unit !== unit.value || picked.name !== name.value)) {
      picked = null;
      ref.value = "";
      phone.placeholder = "";
      known.hidden = true;
    }
  }

  function pick(owner) {
    unit.value = owner.unit;
    name.value = owner.name;
    ref.value = owner.ref;
    phone.value = "";
    phone.placeholder = owner.phone_masked;
    knownPhone.textContent = owner.phone_masked;
    known.hidden = false;
    picked = {unit: owner.unit, name: owner.name};
    box.hidden = true;
    list.replaceChildren();
    var next = document.getElementById("description");
    (next || phone).focus();
  }

  function show(owners) {
    list.replaceChildren();
    owners.forEach(function (owner, index) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "suggestion";
      button.dataset.ref = owner.ref;
      button.textContent = owner.name + " · " + owner.unit + " · " + owner.phone_masked + " (" +
        (texts.sources[owner.source] || owner.source) + ")";
      button.addEventListener("click", function () { pick(owner); });
      button.addEventListener("keydown", function (event) {
        var buttons = list.querySelectorAll("button");
        if (event.key === "ArrowDown" && buttons[index + 1]) {
          buttons[index + 1].focus();
          event.preventDefault();
        } else if (event.key === "ArrowUp") {
          (buttons[index - 1] || name).focus();
          event.preventDefault();
        } else if (event.key === "Escape") {
          box.hidden = true;
          name.focus();
        }
      });
      item.appendChild(button);
      list.appendChild(item);
    });
    box.hidden = owners.length === 0;
  }

  function lookUp() {
    var query = "unit=" + encodeURIComponent(unit.value.trim()) + "&name=" + encodeURIComponent(name.value.trim());
    if (!unit.value.trim() || query === asked) {
      if (!unit.value.trim()) { show([]); }
      return;
    }
    asked = query;
    fetch("/desk/owners?" + query, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (answer) { return answer.ok ? answer.json() : {owners: []}; })
      .then(function (body) {
        if (query === asked && !picked) {
          show(body.owners || []);
        }
      })
      .catch(function () { show([]); });
  }

  [unit, name].forEach(function (input) {
    input.addEventListener("input", function () {
      forget();
      clearTimeout(timer);
      timer = setTimeout(lookUp, 200);
    });
    input.addEventListener("keydown", function (event) {
      var first = list.querySelector("button");
      if (event.key === "ArrowDown" && first && !box.hidden) {
        first.focus();
        event.preventDefault();
      }
    });
  });
}());
