/* Report form: shrink the photo on the phone (<= 350 KB JPEG, <= 1600 px) before it is sent, add the
   phone's position when the person agrees, and keep a double tap from sending twice. The server checks
   and re-encodes whatever arrives, so every step here may fail without harm. */
(function () {
  "use strict";
  var form = document.querySelector("[data-report-form]");
  if (!form) { return; }
  var input = form.querySelector("[data-photo-input]");
  var photoStatus = form.querySelector("[data-photo-status]");
  var locationStatus = form.querySelector("[data-location-status]");
  var button = form.querySelector("[data-submit]");
  // Tried in order until the photo is at most TARGET bytes: a 12 MP camera photo ends at
  // 150-300 KB (measured, README "Offline reports"). 1600 px is what the server keeps; every
  // step stays far above the evidence's minimum side (setting photo_min_side, 200 px).
  var TARGET = 350000;
  var STEPS = [[1600, 0.72], [1280, 0.72], [1280, 0.6], [1024, 0.6], [1024, 0.5]];
  var pending = null;

  function message(name) {
    var template = form.querySelector("[data-msg-" + name + "]");
    return template ? template.content.textContent.trim() : "";
  }

  function size(bytes) {
    return bytes > 1e6 ? (bytes / 1e6).toFixed(1) + " MB" : Math.round(bytes / 1e3) + " KB";
  }

  function shrink(file) {
    if (!window.createImageBitmap || !window.DataTransfer || !file.type.match(/^image\//)) {
      return Promise.resolve(null);
    }
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
      var largest = Math.max(bitmap.width, bitmap.height);
      if (largest <= STEPS[0][0] && file.type === "image/jpeg" && file.size <= TARGET) { return null; }
      function encode(index) {
        var scale = Math.min(1, STEPS[index][0] / largest);
        var canvas = document.createElement("canvas");
        canvas.width = Math.round(bitmap.width * scale);
        canvas.height = Math.round(bitmap.height * scale);
        var context = canvas.getContext("2d");
        context.fillStyle = "#fff";  // transparent PNGs become white, as on the server
        context.fillRect(0, 0, canvas.width, canvas.height);
        context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
        return new Promise(function (resolve) {
          canvas.toBlob(resolve, "image/jpeg", STEPS[index][1]);
        }).then(function (blob) {
          if (!blob || blob.size <= TARGET || index === STEPS.length - 1) { return blob; }
          return encode(index + 1);
        });
      }
      return encode(0);
    }).catch(function () { return null; });
  }

  if (input) {
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      if (!file) { return; }
      button.disabled = true;
      pending = shrink(file).then(function (blob) {
        if (blob && blob.size < file.size) {
          var transfer = new DataTransfer();
          transfer.items.add(new File([blob], "foto.jpg", { type: "image/jpeg" }));
          input.files = transfer.files;  // assigning files fires no change event
          photoStatus.textContent = message("shrunk") + " " + size(file.size) + " \u2192 " + size(blob.size);
          photoStatus.hidden = false;
        }
      }).finally(function () { button.disabled = false; pending = null; });
    });
  }

  form.addEventListener("submit", function (event) {
    if (pending) {
      event.preventDefault();
      pending.then(function () { form.requestSubmit(button); });
      return;
    }
    if (form.dataset.sending) { event.preventDefault(); return; }
    form.dataset.sending = "1";
    var label = button.textContent;
    button.textContent = message("sending");
    // With the queue (asn-report.js): posted by fetch, or kept on the phone with no signal.
    if (window.PromkmReport) {
      event.preventDefault();
      window.PromkmReport.submit().catch(function () { /* nothing sent: the form stays */ })
        .then(function () { delete form.dataset.sending; button.textContent = label; });
    }
  });
  // Back from the receipt (bfcache): the form may be used again.
  window.addEventListener("pageshow", function () { delete form.dataset.sending; });

  // The position is asked for only when the person taps the button, next to the reason why;
  // a site already allowed is not asked again, so its position is added without a tap.
  var locationBox = form.querySelector("[data-location]");
  function locate() {
    navigator.geolocation.getCurrentPosition(function (position) {
      form.elements.lat.value = position.coords.latitude.toFixed(7);
      form.elements.lon.value = position.coords.longitude.toFixed(7);
      locationBox.hidden = true;
      locationStatus.textContent = message("location");
      locationStatus.hidden = false;
    }, function () {
      locationStatus.textContent = message("no-location");
      locationStatus.hidden = false;
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  }
  if (locationBox && navigator.geolocation && window.isSecureContext) {
    locationBox.hidden = false;
    locationBox.querySelector("[data-location-button]").addEventListener("click", locate);
    if (navigator.permissions) {
      navigator.permissions.query({ name: "geolocation" }).then(function (status) {
        if (status.state === "granted") { locate(); }
      }).catch(function () { /* no Permissions API answer: wait for the tap */ });
    }
  }
}());
