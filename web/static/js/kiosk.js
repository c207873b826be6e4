// The lobby kiosk screen. Three ways in, one scan operation on the server:
//   a keyboard-wedge scanner typing into #code (kept focused) and Enter -> POST /api/v1/scans
//   the browser camera: frames -> POST /api/v1/decode?scan=true
//   the host's camera loop (`kiosk scan --server ...`): its answers arrive on /events
// Every answer is shown the same way and the screen returns to its welcome state after a while.
// A network or server failure shows a calm message and the scan is retried.
(function () {
  "use strict";

  // The complaint form and its thank-you page: go back to the welcome screen when left alone.
  var formPage = document.getElementById("kiosk-form");
  if (formPage) {
    var idleMs = Number(formPage.dataset.idleSeconds) * 1000;
    var leave = function () { window.location.assign(formPage.dataset.returnUrl); };
    var timer = window.setTimeout(leave, idleMs);
    ["input", "pointerdown", "keydown"].forEach(function (type) {
      document.addEventListener(type, function () {
        window.clearTimeout(timer);
        timer = window.setTimeout(leave, idleMs);
      });
    });
    return;
  }

  var root = document.getElementById("kiosk");
  if (!root) { return; }
  var texts = JSON.parse(document.getElementById("kiosk-texts").textContent);
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var codeInput = document.getElementById("code");
  var resultMs = Number(root.dataset.resultSeconds) * 1000;
  var frameMs = Number(root.dataset.frameMs);
  var idleTimer = null;
  var shown = null;  // what the screen shows now, to show an answer from the channel only once

  // ---- screens -------------------------------------------------------------------------------
  function show(name, holdMs) {
    document.querySelectorAll("#kiosk .state").forEach(function (section) {
      section.hidden = section.id !== "state-" + name;
    });
    root.dataset.state = name;
    window.clearTimeout(idleTimer);
    if (holdMs) { idleTimer = window.setTimeout(idle, holdMs); }
    keepFocus();
  }

  function idle() {
    shown = null;
    show("idle");
  }

  function render(answer) {
    // The same scan may arrive twice, as this page's answer and on the live channel (without
    // the API's sentence): show it once.
    var key = JSON.stringify(Object.assign({}, answer, {message: undefined}));
    if (key === shown && root.dataset.state !== "idle") { return; }
    shown = key;
    if (answer.error) {
      var code = answer.error.code;
      document.getElementById("error-text").textContent = texts.errors[code] || texts.errors.unknown_code;
      show("error", resultMs);
      return;
    }
    if (answer.next === "wait_for_staff") {
      // Neutral: the person holding a stub reported lost must not learn it; the desk and security know.
      show("wait", resultMs * 3);
      return;
    }
    if (answer.next === "scan_claim") { show("tag", resultMs); return; }
    if (answer.next === "none") { show("used", resultMs); return; }
    var item = answer.item;
    document.getElementById("ticket-no").textContent = item.ticket_no;
    document.getElementById("ticket-kind").textContent = texts.kinds[item.kind] || item.kind;
    document.getElementById("ticket-name").textContent = item.owner.name;
    document.getElementById("ticket-unit").textContent = item.owner.unit;
    var atDesk = texts.collect_at_desk.indexOf(item.kind) >= 0;
    document.getElementById("next-bring").hidden = atDesk;
    document.getElementById("next-collect").hidden = !atDesk;
    show("ticket", resultMs);
  }

  // ---- talking to the server -------------------------------------------------------------------
  function refreshToken() {
    return fetch(root.dataset.tokenUrl, {credentials: "same-origin", cache: "no-store"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) { if (body) { csrfMeta.content = body.csrf_token; } });
  }

  // One request; resolves with the answer (including the API's error answers), rejects when the
  // network or the server failed, so that the caller retries.
  function send(url, init, tokenRefreshed) {
    init.credentials = "same-origin";
    init.headers = init.headers || {};
    init.headers["X-CSRFToken"] = csrfMeta.content;
    init.headers.Accept = "application/json";
    return fetch(url, init).then(function (response) {
      if (response.status >= 500 || response.status === 429) {
        throw new Error("server " + response.status);
      }
      return response.json().catch(function () { throw new Error("unreadable answer"); })
        .then(function (body) {
          if (body.error && body.error.code === "csrf_failed" && !tokenRefreshed) {
            return refreshToken().then(function () { return send(url, init, true); });
          }
          return body;
        });
    });
  }

  // Retry with a calm message until it goes through; give up (politely) after about two minutes.
  function persist(attempt, started) {
    started = started || Date.now();
    return attempt().catch(function () {
      if (Date.now() - started > 120000) {
        document.getElementById("trouble-text").textContent = texts.gave_up;
        show("trouble", resultMs);
        return null;
      }
      document.getElementById("trouble-text").textContent = texts.trouble;
      show("trouble");
      return new Promise(function (resolve) { window.setTimeout(resolve, 2000); })
        .then(function () { return persist(attempt, started); });
    });
  }

  var busy = false;

  function scanCode(code) {
    if (busy || !code) { return; }
    busy = true;
    show("checking");
    persist(function () {
      return send(root.dataset.scanUrl, {
        method: "POST",
        headers: {"Content-Type": "application/json"},
        body: JSON.stringify({code: code})
      });
    }).then(function (answer) {
      busy = false;
      if (answer) { render(answer); }
    });
  }

  // ---- the keyboard-wedge scanner ---------------------------------------------------------------
  document.getElementById("scan-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var code = codeInput.value.trim();
    codeInput.value = "";
    scanCode(code);
  });

  function keepFocus() {
    // The scanner types wherever the focus is: keep it on the code field unless someone is using
    // another control (the camera, the form link) or the screen is an answer with a button.
    window.setTimeout(function () {
      var active = document.activeElement;
      if (!active || active === document.body || active.closest(".state[hidden]")) {
        codeInput.focus({preventScroll: true});
      }
    }, 0);
  }
  codeInput.addEventListener("blur", keepFocus);
  document.addEventListener("visibilitychange", keepFocus);
  document.querySelectorAll("#kiosk .done").forEach(function (button) {
    button.addEventListener("click", idle);
  });
  // A scan while an answer is shown starts over: the scanner's keystrokes go to the code field.
  document.addEventListener("keydown", function (event) {
    if (document.activeElement !== codeInput && event.key.length === 1 && !event.ctrlKey && !event.altKey) {
      codeInput.focus({preventScroll: true});
    }
  });

  // ---- the browser camera (camera.js) -----------------------------------------------------------
  var camera = document.getElementById("camera");
  var startButton = document.getElementById("camera-start");
  startButton.hidden = !window.KioskCamera.available();
  var lens = window.KioskCamera.create({
    video: document.getElementById("camera-video"),
    firstMs: frameMs, waitMs: frameMs,
    idleMs: 60000,  // the camera switches itself off after a minute without a code
    busy: function () { return busy; },
    onStop: function () {
      camera.hidden = true;
      startButton.hidden = false;
      keepFocus();
    },
    frame: function (blob) {
      var form = new FormData();
      form.append("image", blob, "frame.jpg");
      return send(root.dataset.decodeUrl, {method: "POST", body: form}).then(function (answer) {
        var scans = answer.scans || [];
        if (answer.error || !scans.length) { return frameMs; }
        lens.stop();
        render(scans[0]);
        return null;
      }).catch(function () {
        // The server is away: keep the camera on and try the next frame a little later.
        document.getElementById("camera-hint").textContent = texts.trouble;
        return 2000;
      });
    }
  });

  startButton.addEventListener("click", function () {
    lens.start().then(function () {
      camera.hidden = false;
      startButton.hidden = true;
      document.getElementById("camera-hint").textContent = texts.camera_looking;
    }).catch(function () {
      document.getElementById("error-text").textContent = texts.camera_unavailable;
      show("error", resultMs);
    });
  });
  document.getElementById("camera-stop").addEventListener("click", function () { lens.stop(); });

  // ---- the live channel: scans made at this kiosk by the host's camera loop ----------------------
  var source = null;
  function listen() {
    source = new EventSource(root.dataset.eventsUrl);
    source.addEventListener("scan", function (event) {
      if (!busy) { render(JSON.parse(event.data)); }
    });
    source.addEventListener("open", function () { root.dataset.live = "open"; });
    source.addEventListener("error", function () {
      root.dataset.live = "closed";
      if (source.readyState === EventSource.CLOSED) {
        // Refused (busy server, withdrawn device): the browser does not retry by itself.
        window.setTimeout(listen, 5000);
      }
    });
  }
  listen();

  idle();
}());
