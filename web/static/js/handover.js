// The count page of a shift handover or key count, and the printable sheet's print button.
//   scanning: a keyboard-wedge scanner types into #code (kept focused) and Enter ->
//             POST /api/v1/handovers/{id}/scans (without this script the form posts to the page);
//             or the browser camera: frames -> POST /api/v1/decode, each new code -> the same scan
//   live:     every page showing the count follows it on /events: `handover_scan` for each tag
//             counted by anyone, `handover` for explanations, signatures and closing
// Its words come from the page (#handover-texts), in the page's language.
(function () {
  "use strict";

  var printButton = document.getElementById("print");
  if (printButton) {
    printButton.addEventListener("click", function () { window.print(); });
  }
  var root = document.getElementById("count");
  if (!root) { return; }
  var texts = JSON.parse(document.getElementById("handover-texts").textContent);
  var handoverId = Number(root.dataset.handoverId);
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var form = document.getElementById("scan-form");
  var codeInput = document.getElementById("code");
  var locationSelect = document.getElementById("location");
  var result = document.getElementById("scan-result");
  var scans = document.getElementById("scans");
  var list = document.getElementById("difference-list");
  var template = document.getElementById("difference-template");
  var latest = 0;
  var LEFT = ["release", "lend", "returned_to_post", "disposed", "lost_and_found"];  // the highest `scanned` figure shown: answers and events may arrive out of order

  var fill = KioskPage.fill;

  function place(id) { return texts.locations[id] || id || ""; }

  // ---- progress ------------------------------------------------------------------------------
  function showProgress(progress) {
    if (!progress || progress.scanned < latest) { return; }
    latest = progress.scanned;
    document.getElementById("found").textContent = progress.found;
    document.getElementById("expected").textContent = progress.expected;
    document.getElementById("scanned").textContent = progress.scanned;
    var bar = document.getElementById("progress-bar");
    bar.max = progress.expected || 1;
    bar.value = progress.found;
  }

  function unexplained() {
    var open = list.querySelectorAll('.difference:not([data-explained="true"])').length;
    document.getElementById("unexplained").textContent = open;
    document.getElementById("no-differences").hidden = list.children.length > 0;
  }

  // ---- one counted line, from this page's answer or another page's scan ----------------------------
  // line: {key, ticket, finding, reason, discrepancy, found, ledger, by}
  function keyOf(itemId, digest) { return itemId ? "i" + itemId : "c" + digest; }

  function describe(line) {
    var text = fill(texts.scanned_by, {ticket: line.ticket || texts.unknown_code,
                                       finding: texts.findings[line.finding] || line.finding,
                                       place: place(line.found), by: line.by});
    if (line.discrepancy === "wrong_place") {
      text += " · " + fill(texts.wrong_place, {found: place(line.found), ledger: place(line.ledger)});
    } else if (line.finding === "unexpected" && line.reason) {
      text += " · " + (texts.reasons[line.reason] || line.reason);
    }
    return text;
  }

  function listScan(line) {
    var row = scans.querySelector('[data-key="' + CSS.escape(line.key) + '"]');
    if (!row) {
      row = document.createElement("li");
      row.dataset.key = line.key;
    }
    row.dataset.finding = line.finding;
    row.textContent = describe(line);
    scans.prepend(row);  // newest first; a tag counted again moves up
  }

  function applyDifference(line) {
    var row = list.querySelector('[data-key="' + CSS.escape(line.key) + '"]');
    if (!line.discrepancy) {
      if (row) { row.remove(); }  // a missing item found where the ledger says
      unexplained();
      return;
    }
    if (!row) {
      if (!template) { return; }  // a reader's page: the next load shows it
      row = template.content.firstElementChild.cloneNode(true);
      row.id = "line-" + line.key;
      row.dataset.key = line.key;
      var link = row.querySelector(".explain-open");
      link.href = "?explain=" + encodeURIComponent(line.key) + "#line-" + line.key;
      list.prepend(row);  // what a scan turned up goes above what is not found yet
    }
    row.dataset.discrepancy = line.discrepancy;
    row.querySelector(".difference-ticket").textContent = line.ticket || texts.unknown_code;
    row.querySelector(".difference-kind").textContent = texts.differences[line.discrepancy] || line.discrepancy;
    if (line.item) {
      row.querySelector(".difference-item").textContent = line.item;
    }
    var where = row.querySelector(".difference-where");
    if (line.discrepancy === "wrong_place") {
      where.textContent = fill(texts.wrong_place, {found: place(line.found), ledger: place(line.ledger)});
    } else if (line.reason) {
      where.textContent = texts.reasons[line.reason] || line.reason;
    }
    unexplained();
  }

  // "Explain or escalate" opens the form in place (without this script the link asks the page for it).
  var explainTemplate = document.getElementById("explain-template");
  function openExplanation(row) {
    var key = row.dataset.key;
    var form = explainTemplate.content.firstElementChild.cloneNode(true);
    var id = "explain-" + key;
    form.id = id;
    form.querySelectorAll("[id]").forEach(function (element) { element.id = element.id.replace("explain-new", id); });
    form.querySelectorAll("label[for]").forEach(function (label) {
      label.htmlFor = label.htmlFor.replace("explain-new", id);
    });
    form.querySelector("input[name=item_id]").value = key.charAt(0) === "i" ? key.slice(1) : "";
    form.querySelector("input[name=code_digest]").value = key.charAt(0) === "c" ? key.slice(1) : "";
    row.querySelector(".explain-open").replaceWith(form);
    form.querySelector("textarea").focus();
  }
  list.addEventListener("click", function (event) {
    var link = event.target.closest(".explain-open");
    if (link && explainTemplate) {
      event.preventDefault();
      openExplanation(link.closest(".difference"));
    }
  });

  function shelf(key, finding, where) {
    var row = document.querySelector('#expected-table tr[data-key="' + CSS.escape(key) + '"]');
    if (!row) { return; }
    row.dataset.finding = finding;
    row.querySelector(".finding").textContent = (texts.findings[finding] || finding) + (where ? " · " + where : "");
  }

  function counted(line) {
    listScan(line);
    applyDifference(line);
    shelf(line.key, line.finding, line.discrepancy === "wrong_place" ? place(line.found) : "");
  }

  function fromAnswer(answer) {
    var l = answer.line;
    return {key: keyOf(l.item_id, l.code_digest), itemId: l.item_id, digest: l.code_digest, ticket: l.ticket_no,
            finding: l.finding, reason: l.reason, discrepancy: l.discrepancy, found: l.found_location,
            ledger: l.ledger_location, by: l.scanned_by,
            item: l.item_id ? [texts.kinds[l.kind] || l.kind, l.unit, l.owner, l.description].filter(Boolean).join(" · ") : ""};
  }

  function fromEvent(data) {
    return {key: keyOf(data.item_id, data.code_digest), itemId: data.item_id, digest: data.code_digest,
            ticket: data.ticket_no, finding: data.finding, reason: data.reason, discrepancy: data.discrepancy,
            found: data.location, ledger: data.ledger_location, by: data.by};
  }

  function say(text, tone) {
    result.hidden = false;
    result.className = "scan-result " + (tone || "");
    result.textContent = text;
  }

  // ---- scanning ------------------------------------------------------------------------------
  function send(code) {
    return fetch(root.dataset.scanUrl, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfMeta.content},
      body: JSON.stringify({code: code, location: locationSelect.value})
    }).then(function (response) {
      if (response.status >= 500) { throw new Error("server " + response.status); }
      return response.json();
    });
  }

  function scanCode(code) {
    return send(code).then(function (answer) {
      if (answer.error) {
        say(answer.error.message, "mismatch");
        return;
      }
      showProgress(answer.progress);
      var line = fromAnswer(answer);
      if (answer.duplicate) {
        say(fill(texts.duplicate, {ticket: line.ticket || texts.unknown_code}), "");
        return;
      }
      counted(line);
      say(describe(line), line.discrepancy ? "mismatch" : "match");
    }).catch(function () {
      say(texts.trouble, "mismatch");
    });
  }

  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var code = codeInput.value.trim();
      codeInput.value = "";
      if (code) { scanCode(code).then(keepFocus); }
    });
  }

  // ---- the browser camera (camera.js): frames -> POST /api/v1/decode, each new code counted as a scan
  var camera = document.getElementById("camera");
  var startButton = document.getElementById("camera-start");
  var recent = {};  // code -> when it was last counted: a tag held in view is counted once

  if (startButton) {
    var lens = window.KioskCamera.create({
      video: document.getElementById("camera-video"),
      firstMs: 300, waitMs: 300,
      idleMs: 120000,  // the camera switches itself off after two minutes without a new tag
      onStop: function () {
        camera.hidden = true;
        startButton.hidden = false;
        keepFocus();
      },
      frame: function (blob) {
        var body = new FormData();
        body.append("image", blob, "frame.jpg");
        return fetch(camera.dataset.decodeUrl, {method: "POST", body: body, credentials: "same-origin",
                                                headers: {"Accept": "application/json", "X-CSRFToken": csrfMeta.content}})
          .then(function (response) { return response.json(); })
          .then(function (answer) {
            var now = Date.now();
            var fresh = (answer.codes || []).map(function (c) { return c.text; }).filter(function (text) {
              return !(recent[text] && now - recent[text] < 5000);
            });
            fresh.forEach(function (text) { recent[text] = now; });
            if (fresh.length) { lens.stillWatching(); }
            return fresh.reduce(function (done, text) {
              return done.then(function () { return scanCode(text); });
            }, Promise.resolve());
          })
          .catch(function () { say(texts.trouble, "mismatch"); })
          .then(function () { return 400; });
      }
    });
    startButton.hidden = !window.KioskCamera.available();
    startButton.addEventListener("click", function () {
      lens.start().then(function () {
        camera.hidden = false;
        startButton.hidden = true;
      }).catch(function () { say(texts.camera_unavailable, "mismatch"); });
    });
    document.getElementById("camera-stop").addEventListener("click", function () { lens.stop(); });
  }

  function keepFocus() {
    // The scanner types wherever the focus is: back to the code field unless someone is typing elsewhere.
    window.setTimeout(function () {
      var active = document.activeElement;
      if (codeInput && !codeInput.disabled && (!active || active === document.body)) {
        codeInput.focus({preventScroll: true});
      }
    }, 0);
  }

  // ---- explanations, signatures, closing -------------------------------------------------------
  function explained(data) {
    var row = list.querySelector('[data-key="' + CSS.escape(keyOf(data.item_id, data.code_digest)) + '"]');
    if (!row) { return; }
    row.dataset.explained = "true";
    var text = row.querySelector(".difference-explanation");
    text.textContent = fill(texts.explained, {by: data.by, text: data.text});
    if (data.alert_id) {
      var strong = document.createElement("strong");
      strong.textContent = texts.escalated;
      text.append(" · ", strong);
    }
    text.hidden = false;
    row.querySelectorAll(".explain-open, .explain-form").forEach(function (element) { element.remove(); });
    unexplained();
  }

  function signatures(state) {
    [["outgoing", state.outgoing], ["incoming", state.incoming]].forEach(function (pair) {
      var cell = document.getElementById("sign-" + pair[0]);
      cell.dataset.signed = pair[1] ? "true" : "false";
      cell.querySelector(".sign-state").textContent = pair[1] ? texts.signed_by : texts.not_signed;
    });
    if (state.incoming_name) {
      document.querySelector("#sign-incoming .sign-name").textContent = state.incoming_name;
    }
  }

  function closed(state) {
    root.dataset.state = state;
    document.getElementById("state").textContent = texts.states[state] || state;
    if (state === "signed") { document.getElementById("closed").hidden = false; }
    if (lens) { lens.stop(); }
    document.querySelectorAll("#scan-form, #camera, #sign-form, #unfinished-form, #cancel-form, .explain-open, .explain-form")
      .forEach(function (element) { element.remove(); });
  }

  var source = null;
  function listen() {
    source = new EventSource("/events");
    source.addEventListener("handover_scan", function (event) {
      var data = JSON.parse(event.data);
      if (data.handover_id !== handoverId) { return; }
      showProgress(data.progress);
      signatures(data.signatures);
      counted(fromEvent(data));
    });
    source.addEventListener("handover", function (event) {
      var data = JSON.parse(event.data);
      if (data.handover_id !== handoverId) { return; }
      signatures(data.signatures);
      if (data.event === "handover_explain") { explained(data); }
      if (data.state !== "open") { closed(data.state); }
    });
    source.addEventListener("ledger", function (event) {
      // An item handed out, lent or sent away while the count is open is gone, not missing.
      var data = JSON.parse(event.data);
      if (LEFT.indexOf(data.event) < 0 || root.dataset.state !== "open") { return; }
      var row = list.querySelector('[data-key="i' + data.item_id + '"][data-discrepancy="missing"]');
      if (row) { row.remove(); unexplained(); }
      if (document.querySelector('#expected-table tr[data-key="i' + data.item_id + '"][data-finding="missing"]')) {
        shelf("i" + data.item_id, "gone", "");
      }
    });
    source.addEventListener("open", function () { root.dataset.live = "open"; });
    source.addEventListener("error", function () {
      root.dataset.live = "closed";
      if (source.readyState === EventSource.CLOSED) { window.setTimeout(listen, 5000); }
    });
  }
  listen();
  unexplained();
  keepFocus();
}());
