/* Reports waiting on the phone (IndexedDB), shared by the ASN pages and the service worker.
   An item is what the report form would have posted: the fields, the shrunk photo (a Blob),
   the one-time form key (the item's key: the server records one report per key, so sending
   an item twice is harmless) and the form's address, which carries the signed stall link.
   Items belong to the account that made them (`user`) and are sent oldest first. */
(function (scope) {
  "use strict";
  var DB_NAME = "promkm-outbox";
  var LIMIT = 20;
  var TIMEOUT_MS = 60000;
  var opened = null;

  function promised(request) {
    return new Promise(function (resolve, reject) {
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function db() {
    if (!opened) {
      var request = scope.indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        var items = request.result.createObjectStore("items", { keyPath: "key" });
        items.createIndex("user", "user");
        request.result.createObjectStore("stalls", { keyPath: "code" });
      };
      opened = promised(request);
    }
    return opened;
  }

  function store(name, mode) {
    return db().then(function (conn) { return conn.transaction(name, mode).objectStore(name); });
  }

  function list(user) {
    return store("items", "readonly").then(function (items) {
      return promised(items.index("user").getAll(user));
    }).then(function (found) {
      return found.sort(function (a, b) { return a.queuedAt - b.queuedAt; });
    });
  }

  function put(item) {
    return store("items", "readwrite").then(function (items) { return promised(items.put(item)); });
  }

  // Keeps an item; the same form key replaces its earlier copy. Refuses a 21st item.
  function add(item) {
    return list(item.user).then(function (found) {
      var known = found.some(function (other) { return other.key === item.key; });
      if (!known && found.length >= LIMIT) { throw new Error("full"); }
      item.queuedAt = item.queuedAt || Date.now();
      item.state = "waiting";
      return put(item);
    });
  }

  function remove(key) {
    return store("items", "readwrite").then(function (items) { return promised(items.delete(key)); });
  }

  function clearUser(user) {
    return list(user).then(function (found) {
      return Promise.all(found.map(function (item) { return remove(item.key); }));
    });
  }

  function rememberStall(code, name) {
    return store("stalls", "readwrite").then(function (stalls) {
      return promised(stalls.put({ code: code, name: name }));
    });
  }

  function stallName(code) {
    return store("stalls", "readonly").then(function (stalls) {
      return promised(stalls.get(code));
    }).then(function (found) { return found ? found.name : ""; });
  }

  function formData(item, csrf) {
    var data = new FormData();
    data.append("csrf_token", csrf);
    data.append("form_key", item.key);
    Object.keys(item.fields).forEach(function (name) { data.append(name, item.fields[name]); });
    if (item.photo) { data.append("photo", item.photo, "foto.jpg"); }
    return data;
  }

  function errorText(answer) {
    var parts = answer.message ? [answer.message] : [];
    Object.keys(answer.errors || {}).forEach(function (name) {
      parts = parts.concat(answer.errors[name]);
    });
    return parts.join(" ");
  }

  /* Posts one item. The answer is {state: "sent", receipt} | {state: "refused", message}
     (the server said no: kept for the person to correct or delete) | {state: "login"}
     (signed out: kept) | {state: "waiting", message} (no network, a timeout, a server
     error: kept and tried again later). */
  function post(item, csrf) {
    var abort = new AbortController();
    var timer = setTimeout(function () { abort.abort(); }, TIMEOUT_MS);
    return fetch(item.action, {
      method: "POST",
      body: formData(item, csrf),
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrf },
      signal: abort.signal
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") < 0) {
        if (response.url.indexOf("/auth/") >= 0) { return { state: "login" }; }
        return { state: "waiting", message: "HTTP " + response.status };
      }
      return response.json().then(function (answer) {
        if (answer.ok) { return { state: "sent", receipt: answer.receipt, created: answer.created }; }
        if (response.status >= 500 || answer.retry) {
          return { state: "waiting", message: errorText(answer) };
        }
        return { state: "refused", message: errorText(answer), errors: answer.errors || {} };
      });
    }).catch(function () {
      return { state: "waiting", message: "" };
    }).finally(function () { clearTimeout(timer); });
  }

  // The signed-in account and a CSRF token of its session, or null when signed out/offline.
  function session(tokenUrl) {
    return fetch(tokenUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        return response.ok && type.indexOf("application/json") >= 0 ? response.json() : null;
      }).catch(function () { return null; });
  }

  // Sends the signed-in account's waiting items, oldest first; stops at the first network
  // failure (the rest would fail too). Resolves to the results by form key.
  function sendAll(tokenUrl) {
    return session(tokenUrl).then(function (who) {
      if (!who) { return {}; }
      var results = {};
      return list(who.user).then(function (found) {
        var waiting = found.filter(function (item) { return item.state !== "refused"; });
        return waiting.reduce(function (chain, item) {
          return chain.then(function (stop) {
            if (stop) { return true; }
            return post(item, who.csrf_token).then(function (result) {
              results[item.key] = result;
              if (result.state === "sent") { return remove(item.key); }
              item.state = result.state;
              item.message = result.message || "";
              item.errors = result.errors || {};  // by field: the form shows them to correct
              return put(item).then(function () { return result.state !== "refused"; });
            });
          });
        }, Promise.resolve(false));
      }).then(function () { return results; });
    });
  }

  // One sender at a time per phone (pages and the worker), where the browser has locks.
  function sendAllOnce(tokenUrl) {
    var locks = scope.navigator && scope.navigator.locks;
    if (!locks) { return sendAll(tokenUrl); }
    return locks.request("promkm-outbox-send", { ifAvailable: true }, function (lock) {
      return lock ? sendAll(tokenUrl) : {};
    });
  }

  scope.PromkmOutbox = {
    LIMIT: LIMIT, list: list, add: add, put: put, remove: remove, clearUser: clearUser,
    rememberStall: rememberStall, stallName: stallName, post: post, session: session,
    sendAll: sendAllOnce
  };
}(self));
