/* "Pindai QR": read a poster's QR with the camera, using the browser's BarcodeDetector where
   it exists and else jsQR (served by the app from node_modules, no CDN). A poster link opens
   the report form; a bare stall code goes through the typed-code form. */
(function () {
  "use strict";
  var root = document.querySelector("[data-scanner]");
  if (!root) { return; }
  var video = root.querySelector("[data-scan-video]");
  var startButton = root.querySelector("[data-scan-start]");
  var errorBox = root.querySelector("[data-scan-error]");
  var hint = root.querySelector("[data-scan-hint]");
  var codeForm = document.querySelector("[data-code-form]");
  var STALL_CODE = /^\s*[0-9]{10}\s*[-\u2010-\u2015]?\s*[0-9]{1,5}\s*$/;
  var POSTER_PATH = /^\/q\/[0-9A-Za-z._-]+$/;
  var stream = null;
  var detect = null;
  var canvas = document.createElement("canvas");

  function message(name) {
    var template = root.querySelector("[data-msg-" + name + "]");
    return template ? template.content.textContent.trim() : "";
  }

  function showError(text) { errorBox.textContent = text; errorBox.hidden = false; }

  function stop() {
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
    stream = null;
    video.hidden = true;
  }

  function handle(text) {
    if (STALL_CODE.test(text)) {
      stop();
      codeForm.elements.code.value = text.trim();
      codeForm.submit();
      return true;
    }
    var url = null;
    try { url = new URL(text); } catch (e) { url = null; }
    if (url && POSTER_PATH.test(url.pathname)) {
      stop();
      hint.textContent = message("found");
      // Same path on this server, whatever host the poster was printed with.
      window.location.assign(window.location.origin + url.pathname);
      return true;
    }
    showError(message("not-poster"));
    return false;
  }

  function jsqrDetector() {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = root.dataset.vendor;
      script.onload = function () {
        resolve(function (source) {
          var scale = Math.min(1, 640 / Math.max(source.videoWidth, source.videoHeight));
          canvas.width = Math.round(source.videoWidth * scale);
          canvas.height = Math.round(source.videoHeight * scale);
          var context = canvas.getContext("2d", { willReadFrequently: true });
          context.drawImage(source, 0, 0, canvas.width, canvas.height);
          var image = context.getImageData(0, 0, canvas.width, canvas.height);
          var found = window.jsQR(image.data, image.width, image.height);
          return Promise.resolve(found ? found.data : null);
        });
      };
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  function nativeDetector() {
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    return Promise.resolve(function (source) {
      return detector.detect(source).then(function (codes) {
        return codes.length ? codes[0].rawValue : null;
      });
    });
  }

  function chooseDetector() {
    if (!("BarcodeDetector" in window)) { return jsqrDetector(); }
    return window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      return formats.indexOf("qr_code") >= 0 ? nativeDetector() : jsqrDetector();
    }, jsqrDetector);
  }

  function loop() {
    if (!stream) { return; }
    var next = function () { window.setTimeout(loop, 200); };
    if (video.readyState < 2) { next(); return; }
    detect(video).then(function (text) {
      if (!text || !handle(text)) { next(); }
    }, next);
  }

  startButton.addEventListener("click", function () {
    errorBox.hidden = true;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      showError(message("no-camera"));
      return;
    }
    Promise.all([
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false }),
      detect ? Promise.resolve(detect) : chooseDetector(),
    ]).then(function (results) {
      stream = results[0];
      detect = results[1];
      video.srcObject = stream;
      video.hidden = false;
      startButton.hidden = true;
      return video.play().then(loop);
    }).catch(function () { stop(); showError(message("no-camera")); });
  });

  window.scanHandle = handle;  // lets a test feed a decoded text without a camera
}());
