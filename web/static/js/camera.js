// The browser camera, shared by the kiosk screen (kiosk.js) and the handover count (handover.js):
// start it, hand the page one JPEG frame at a time (at most 1280 px wide), switch it off when asked
// or after a while without progress. What a frame means is the page's business: `frame(blob)`
// returns a promise of how many ms to wait before the next frame, or null to switch off.
window.KioskCamera = (function () {
  "use strict";

  function available() {
    // Browsers allow the camera only on https:// or localhost pages.
    return !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  }

  // options: video (element), frame(blob) -> Promise<ms|null>, firstMs, waitMs (no picture yet, or
  // busy()), idleMs (switch off after this long without stillWatching()), busy() optional,
  // onStop() optional.
  function create(options) {
    var stream = null, frameTimer = null, idleTimer = null;
    var canvas = document.createElement("canvas");
    var video = options.video;

    function later(ms) {
      window.clearTimeout(frameTimer);
      frameTimer = window.setTimeout(capture, ms);
    }

    function stillWatching() {
      window.clearTimeout(idleTimer);
      idleTimer = window.setTimeout(stop, options.idleMs);
    }

    function stop() {
      window.clearTimeout(frameTimer);
      window.clearTimeout(idleTimer);
      var wasOn = stream !== null;
      if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
      stream = null;
      video.srcObject = null;
      if (wasOn && options.onStop) { options.onStop(); }
    }

    function capture() {
      if (!stream) { return; }
      if (!video.videoWidth || (options.busy && options.busy())) {
        later(options.waitMs);
        return;
      }
      var scale = Math.min(1, 1280 / video.videoWidth);
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
      canvas.toBlob(function (blob) {
        if (!blob || !stream) { return; }
        options.frame(blob).then(function (next) {
          if (!stream) { return; }
          if (next === null) { stop(); } else { later(next); }
        });
      }, "image/jpeg", 0.85);
    }

    function start() {
      return navigator.mediaDevices.getUserMedia({video: {facingMode: "environment", width: {ideal: 1280}},
                                                  audio: false})
        .then(function (media) {
          stream = media;
          video.srcObject = media;
          stillWatching();
          later(options.firstMs);
        });
    }

    return {start: start, stop: stop, stillWatching: stillWatching};
  }

  return {available: available, create: create};
}());
