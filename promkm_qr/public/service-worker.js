/* The ASN web app's service worker (served at /sw.js with PROMKM_SW written at its head).
   It handles only the ASN pages, the poster links and its own files; every other request
   goes to the network untouched. Pages: network first, the last copy seen when offline;
   a poster link offline gets the cached report form, which reads the stall from the link.
   Files: fingerprinted, so taken from the cache first. Waiting reports are sent by the
   pages (asn-queue.js) and, where the browser has Background Sync, by this worker. */
"use strict";
importScripts(self.PROMKM_SW.files.filter(function (f) { return f.indexOf("asn-outbox.js") >= 0; })[0]);

var CONFIG = self.PROMKM_SW;
var FILES = "promkm-files-" + CONFIG.version;
var PAGES = "promkm-pages";  // emptied by each new worker; refilled by pages seen online
var SLOW_MS = 8000;
// The files this worker keeps (exact fingerprinted addresses); other files go to the network.
var OWN = CONFIG.files.concat([CONFIG.manifest]);

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(FILES).then(function (cache) {
    return cache.addAll(CONFIG.files.concat([CONFIG.manifest]));
  }).then(function () { return self.skipWaiting(); }));
});

// The activation's clean-up, which a page's keep-shell message must not race (a message
// may arrive while this worker is still activating).
var cleaning = Promise.resolve();

self.addEventListener("activate", function (event) {
  event.waitUntil(cleaning = caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("promkm-files-") === 0 && name !== FILES;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () {
    // Kept pages name the old release's files, just deleted: the page that brought this
    // worker keeps the shell again at once (keep-shell), other pages as they are visited.
    return caches.delete(PAGES);
  }).then(function () { return self.clients.claim(); }));
});

function isPage(url) {
  return url.pathname.indexOf("/asn/") === 0 || url.pathname.indexOf("/q/") === 0;
}

function isFormPage(url) {
  return url.pathname.indexOf("/q/") === 0 || url.pathname.indexOf("/asn/lapor/") === 0;
}

// Only a page the signed-in ASN got as itself is kept: not a sign-in redirect, not an error.
function keepable(response) {
  return response && response.ok && !response.redirected && response.type === "basic";
}

function kept(url) {
  return caches.open(PAGES).then(function (cache) {
    if (isFormPage(url)) { return cache.match(CONFIG.offlineForm); }
    return cache.match(url.pathname + url.search).then(function (found) {
      return found || cache.match(CONFIG.home);
    });
  });
}

function offline() {
  return new Response("Offline", { status: 503, headers: { "Content-Type": "text/plain" } });
}

// Network first; the kept copy when the network fails, or when it has not answered within
// SLOW_MS (a line that barely works): its answer still refreshes the copy for next time.
function fromNetwork(request, url) {
  var network = fetch(request).then(function (response) {
    // A report form carries a one-time key: it is never replayed from the cache.
    if (keepable(response) && !isFormPage(url)) {
      var copy = response.clone();
      caches.open(PAGES).then(function (cache) { cache.put(url.pathname + url.search, copy); });
    }
    return response;
  });
  return new Promise(function (resolve) {
    var done = false;
    function answer(response) { if (!done && response) { done = true; resolve(response); } }
    var timer = setTimeout(function () { kept(url).then(answer); }, SLOW_MS);
    network.then(function (response) { clearTimeout(timer); answer(response); }, function () {
      clearTimeout(timer);
      kept(url).then(function (found) { answer(found || offline()); });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate" && isPage(url)) {
    event.respondWith(fromNetwork(request, url));
  } else if (OWN.indexOf(url.pathname + url.search) >= 0) {
    event.respondWith(caches.open(FILES).then(function (cache) {
      return cache.match(request).then(function (found) { return found || fetch(request); });
    }));
  }
});

// A page asks for the app shell (home and the offline form) to be kept once it is signed in.
self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "keep-shell") {
    event.waitUntil(cleaning.then(function () {
      return caches.open(PAGES);
    }).then(function (cache) {
      // Only what is missing: a slow line is not spent on pages kept already (the home is
      // refreshed whenever it is visited, the form when a new worker takes over).
      return Promise.all(CONFIG.shell.map(function (path) {
        return cache.match(path).then(function (found) {
          if (found) { return; }
          return fetch(path, { credentials: "same-origin" }).then(function (response) {
            if (keepable(response)) { return cache.put(path, response); }
          });
        }).catch(function () { /* offline: keep what is there */ });
      }));
    }));
  }
});

self.addEventListener("sync", function (event) {
  if (event.tag !== "promkm-send") { return; }
  event.waitUntil(self.PromkmOutbox.sendAll(CONFIG.tokenUrl).then(function (results) {
    return self.clients.matchAll({ type: "window" }).then(function (windows) {
      windows.forEach(function (client) {
        client.postMessage({ type: "outbox-results", results: results });
      });
    });
  }));
});
