/* Every ASN page: installs the service worker, shows the reports waiting on this phone for
   the signed-in account ("Menunggu dikirim: N") and sends them when the page loads and when
   the connection returns. Signing out warns about waiting reports, then removes them and
   the pages kept for offline use, so the next person on a shared phone sees none of them. */
(function () {
  "use strict";
  var box = document.querySelector("[data-queue]");
  var outbox = window.PromkmOutbox;
  if (!box || !outbox || !window.indexedDB || !window.fetch) { return; }
  var user = Number(box.dataset.user);
  var tokenUrl = box.dataset.tokenUrl;
  var list = box.querySelector("[data-queue-list]");
  var sending = false;

  function message(name) {
    var template = box.querySelector("[data-msg-" + name + "]");
    return template ? template.content.textContent.trim() : "";
  }

  function rupiah(text) {
    var digits = String(text || "").replace(/\D/g, "").replace(/^0+/, "");
    return "Rp" + (digits || "0").replace(/\B(?=(\d{3})+(?!\d))/g, ".");
  }

  function when(local) {  // "2026-12-06T09:30" typed in WIB -> "06-12-2026 09.30 WIB"
    var m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(local || "");
    return m ? m[3] + "-" + m[2] + "-" + m[1] + " " + m[4] + "." + m[5] + " WIB" : (local || "");
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }  // never markup: stall names and server words
    return node;
  }

  function button(label, handler) {
    var node = element("button", "link", label);
    node.type = "button";
    node.addEventListener("click", handler);
    return node;
  }

  function row(item) {
    var li = element("li", "queue-item");
    li.dataset.queueItem = item.key;
    li.dataset.state = item.state;
    var head = element("span", "row");
    head.appendChild(element("strong", "", item.stallName || item.stallCode));
    head.appendChild(element("span", "num", rupiah(item.fields.amount)));
    li.appendChild(head);
    li.appendChild(element("span", "row muted", when(item.fields.purchased_at)));
    if (item.state === "refused") {
      li.appendChild(element("p", "error", message("refused") + " " + (item.message || "")));
    } else if (item.state === "login") {
      li.appendChild(element("p", "muted", message("login")));
    }
    var actions = element("span", "row");
    if (item.state === "refused" && Object.keys(item.errors || {}).length) {
      // A refusal of the fields (amount, time, photo): the form opens with them to correct.
      // The form's own address: online the stall's form, offline the kept copy (the worker).
      actions.appendChild(button(message("correct"), function () {
        var address = new URL(item.action, window.location.href);
        address.search = "?perbaiki=" + encodeURIComponent(item.key);
        window.location.assign(address.href);
      }));
    }
    if (item.state === "refused") {
      actions.appendChild(button(message("retry"), function () {
        item.state = "waiting";
        outbox.put(item).then(send);
      }));
    }
    actions.appendChild(button(message("delete"), function () {
      if (window.confirm(message("confirm-delete"))) { outbox.remove(item.key).then(show); }
    }));
    li.appendChild(actions);
    return li;
  }

  var sentNow = [];  // receipts of the reports this page sent from the queue
  var labels = {};  // what each waiting item is called, for the receipts once sent

  function show() {
    return outbox.list(user).then(function (items) {
      list.textContent = "";
      items.forEach(function (item) {
        labels[item.key] = (item.stallName || item.stallCode) + " " + rupiah(item.fields.amount);
        list.appendChild(row(item));
      });
      sentNow.forEach(function (done) {
        var li = element("li", "queue-item");
        li.dataset.queueSent = done.key;
        var link = element("a", "", message("sent") + " " + done.label);
        link.href = done.receipt;
        li.appendChild(link);
        list.appendChild(li);
      });
      box.querySelector("[data-queue-title]").textContent = message("waiting") + " " + items.length;
      box.querySelector("[data-queue-note]").textContent = message("note");
      box.hidden = items.length === 0 && sentNow.length === 0;
      return items;
    }).catch(function () { box.hidden = true; return []; });
  }


  function took(results) {
    Object.keys(results || {}).forEach(function (key) {
      if (results[key].state === "sent") {
        sentNow.push({ key: key, receipt: results[key].receipt, label: labels[key] || "" });
      }
    });
    return show();
  }

  function send() {
    if (sending || !navigator.onLine) { return show(); }
    sending = true;
    return show().then(function (items) {
      return items.length ? outbox.sendAll(tokenUrl) : {};
    }).then(function (results) {
      sending = false;
      return took(results);
    }, function () { sending = false; return show(); });
  }

  window.PromkmQueue = { show: show, send: send, user: user, box: box };

  // The worker: pages and files kept for offline use, and the queue sent in the background.
  function install() {
    navigator.serviceWorker.register(box.dataset.worker, { scope: "/" }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      registration.active.postMessage({ type: "keep-shell" });
      window.PromkmQueue.registration = registration;
    }).catch(function () { /* no worker: the queue still works while the page is open */ });
  }
  if (navigator.serviceWorker && window.isSecureContext) {
    // After the page has loaded: the page first, the worker's files after.
    if (document.readyState === "complete") { install(); } else { window.addEventListener("load", install); }
    // Reports the worker sent in the background (Background Sync).
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (event.data && event.data.type === "outbox-results") { took(event.data.results); }
    });
  }

  // Another account signed in on this phone: the pages kept for the last one go.
  try {
    var last = window.localStorage.getItem("promkm-user");
    if (last && Number(last) !== user && window.caches) { window.caches.delete("promkm-pages"); }
    window.localStorage.setItem("promkm-user", String(user));
  } catch (ignored) { /* storage refused: nothing kept to protect */ }

  var logout = document.querySelector("[data-logout]");
  if (logout) {
    logout.addEventListener("submit", function (event) {
      if (logout.dataset.cleared) { return; }
      event.preventDefault();
      outbox.list(user).then(function (items) {
        if (items.length && !window.confirm(message("confirm-logout"))) { return; }
        var caches = window.caches ? window.caches.delete("promkm-pages") : Promise.resolve();
        return Promise.all([outbox.clearUser(user), caches]).catch(function () {}).then(function () {
          logout.dataset.cleared = "1";
          logout.submit();
        });
      });
    });
  }

  window.addEventListener("online", send);
  send();
}());
