/* The report form with or without a signal. Online the form is posted by fetch (same
   fields, same one-time key, same checks); with no network, a timeout or a server error it
   is kept on the phone (asn-outbox.js) and sent later. Opened offline from a poster link,
   the kept copy of the form reads the stall from the link and takes a new key and the
   phone's time (WIB). Opened from "Perbaiki" on a refused item (?perbaiki=<key>), the form
   shows that item to correct; sending replaces it in the queue and sends it.
   asn-photo.js calls PromkmReport.submit once the photo is shrunk. */
(function () {
  "use strict";
  var form = document.querySelector("[data-report-form]");
  var outbox = window.PromkmOutbox;
  if (!form || !outbox || !window.indexedDB || !window.fetch || !window.FormData) { return; }
  var notice = form.querySelector("[data-report-notice]");

  function message(name) {
    var template = form.querySelector("[data-msg-" + name + "]");
    return template ? template.content.textContent.trim() : "";
  }

  function newKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function wibNow() {  // the phone's clock in WIB (UTC+7), whatever zone the phone is set to
    return new Date(Date.now() + 7 * 3600 * 1000).toISOString().slice(0, 16);
  }

  function say(text, kind) {
    notice.textContent = text;
    notice.className = "flash " + kind;
    notice.hidden = !text;
  }

  var stall = { code: form.dataset.stallCode || "", name: form.dataset.stallName || "" };
  if (stall.code) {
    outbox.rememberStall(stall.code, stall.name).catch(function () {});
  } else {
    // The kept copy of the form, opened from a poster link: /q/<token> or /asn/lapor/<token>.
    var token = window.location.pathname.split("/").pop();
    var parts = token.split(".");
    if (parts.length >= 3) {
      stall.code = parts.slice(0, -2).join(".");
      form.action = form.dataset.actionPattern.replace("__TOKEN__", encodeURIComponent(token));
      document.querySelector("[data-offline-code]").textContent = stall.code;
      outbox.stallName(stall.code).then(function (name) {
        stall.name = name;
        document.querySelector("[data-offline-name]").textContent = name || stall.code;
      }).catch(function () {});
    }
    form.elements.form_key.value = newKey();
    form.elements.purchased_at.value = wibNow();
    form.querySelector("[data-submit]").disabled = !stall.code;  // no poster link: nowhere to send
  }

  var correcting = null;  // the refused item this form corrects, if any

  function item() {
    var photo = form.querySelector("[data-photo-input]").files[0] ||
      (correcting && correcting.photo) || null;
    var paid = form.querySelector("input[name=payment_method]:checked");
    return {
      key: form.elements.form_key.value,
      user: window.PromkmQueue.user,
      action: form.action,
      stallCode: stall.code,
      stallName: stall.name,
      queuedAt: correcting ? correcting.queuedAt : 0,
      photo: photo,
      fields: {
        amount: form.elements.amount.value,
        goods_category: form.elements.goods_category.value,
        description: form.elements.description.value,
        purchased_at: form.elements.purchased_at.value,
        payment_method: paid ? paid.value : "",
        lat: form.elements.lat.value,
        lon: form.elements.lon.value
      }
    };
  }

  function clearErrors() {
    form.querySelectorAll("[data-js-error]").forEach(function (node) { node.remove(); });
    form.querySelectorAll(".has-error").forEach(function (node) { node.classList.remove("has-error"); });
  }

  function showErrors(result) {
    say(message("not-sent") + " " + (result.message || ""), "error");
    showFieldErrors(result);
  }

  function showFieldErrors(result) {
    Object.keys(result.errors || {}).forEach(function (name) {
      var input = form.querySelector("[name=" + name + "]");
      var box = input && input.closest(".field, fieldset");
      if (!box) { return; }
      box.classList.add("has-error");
      result.errors[name].forEach(function (text) {
        var line = document.createElement("p");
        line.className = "error";
        line.setAttribute("role", "alert");
        line.dataset.jsError = "1";
        line.textContent = text;
        box.appendChild(line);
      });
    });
  }

  // A correction takes its item's place in the queue (it is already counted in the limit);
  // a correction under a new key (the server refused the key) removes the old item after.
  function store(entry, state) {
    if (!correcting) { return outbox.add(entry); }
    var old = correcting.key;
    entry.state = state;
    return outbox.put(entry).then(function () {
      return entry.key === old ? null : outbox.remove(old);
    });
  }

  function keep(entry) {
    return store(entry, "waiting").then(function () {
      correcting = null;
      window.history.replaceState(null, "", window.location.pathname);
      form.reset();
      form.elements.form_key.value = newKey();
      form.elements.purchased_at.value = wibNow();
      form.querySelector("[data-photo-status]").hidden = true;
      say(message("queued"), "success");
      var registration = window.PromkmQueue.registration;
      if (registration && registration.sync) {
        registration.sync.register("promkm-send").catch(function () {});
      }
      return window.PromkmQueue.show();
    }, function (error) {
      say(message(error && error.message === "full" ? "full" : "no-storage"), "error");
    });
  }

  function submit() {
    clearErrors();
    say("", "");
    var entry = item();
    if (!navigator.onLine) { return keep(entry); }
    // The kept form's token may be older than the session allows: ask for a fresh one.
    var token = form.dataset.stallCode
      ? Promise.resolve({ csrf_token: form.elements.csrf_token.value })
      : outbox.session(window.PromkmQueue.box.dataset.tokenUrl);
    return token.then(function (who) {
      if (!who) { return { state: "waiting" }; }
      return outbox.post(entry, who.csrf_token);
    }).then(function (result) {
      if (result.state === "sent") {
        var done = correcting ? outbox.remove(correcting.key) : Promise.resolve();
        return done.then(function () { window.location.assign(result.receipt); });
      }
      if (result.state === "refused") {
        showErrors(result);
        if (!correcting) { return; }
        entry.message = result.message || "";  // refused again: the queue shows the new words
        entry.errors = result.errors || {};
        return store(entry, "refused").then(function () { correcting = entry; });
      }
      return keep(entry);  // no network, timeout, server error or signed out: kept
    });
  }

  // The refused item named by ?perbaiki=<key>, of the signed-in account only: its fields, its
  // photo (kept unless another is chosen), its form key and the server's words.
  function correct(found) {
    correcting = found;
    var fields = found.fields;
    ["amount", "goods_category", "description", "purchased_at", "lat", "lon"].forEach(function (name) {
      form.elements[name].value = fields[name] || "";
    });
    form.querySelectorAll("input[name=payment_method]").forEach(function (radio) {
      radio.checked = radio.value === fields.payment_method;
    });
    // The same key: a refused item recorded nothing under it. Only a key the server
    // refused itself is replaced by the new one the form already holds.
    if (!(found.errors || {}).form_key) { form.elements.form_key.value = found.key; }
    if (!form.dataset.stallCode) {  // the kept copy: the stall as the item knew it
      stall.code = found.stallCode;
      stall.name = found.stallName;
      form.action = found.action;
      document.querySelector("[data-offline-code]").textContent = stall.code;
      document.querySelector("[data-offline-name]").textContent = stall.name || stall.code;
      form.querySelector("[data-submit]").disabled = false;
    }
    if (found.photo) {
      var status = form.querySelector("[data-photo-status]");
      status.textContent = message("kept-photo");
      status.hidden = false;
    }
    say(message("correcting") + " " + (found.message || ""), "error");
    showFieldErrors(found);
  }

  var wanted = new URLSearchParams(window.location.search).get("perbaiki");
  if (wanted && window.PromkmQueue) {
    outbox.list(window.PromkmQueue.user).then(function (items) {
      var found = items.filter(function (one) { return one.key === wanted && one.state === "refused"; })[0];
      if (found) { correct(found); }
    }).catch(function () {});
  }

  window.PromkmReport = { submit: submit };
}());
