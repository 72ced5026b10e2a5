/* The offline field app (docs/field-app.md): plain JavaScript and IndexedDB, no library.

   IndexedDB "zongzhi-field" holds: `meta` (the owner and the downloaded households, masked as the
   pages show them), `drafts` (each form as it is being typed, so closing the browser loses
   nothing) and `records` (the queue: each record with its client-generated id, its state and the
   server's answer). Records go to /api/v1/field/sync one by one, photos first in chunks at offsets;
   a record answered is kept as a summary only. Logging out deletes the database and the caches. */
(function () {
  "use strict";
  var T = JSON.parse(document.getElementById("fieldapp-strings").textContent);
  var C = JSON.parse(document.getElementById("fieldapp-config").textContent);
  var DB_NAME = "zongzhi-field";
  var CHUNK = 256 * 1024;
  var db = null;
  var data = null; // the downloaded dataset
  var syncing = null; // the round under way (a promise), if one is
  var syncAgain = false;

  // ---- IndexedDB ------------------------------------------------------------------------------

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        var d = request.result;
        d.createObjectStore("meta", { keyPath: "name" });
        d.createObjectStore("drafts", { keyPath: "form" });
        var records = d.createObjectStore("records", { keyPath: "client_id" });
        records.createIndex("created", "created_at");
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function tx(store, mode, work) {
    return new Promise(function (resolve, reject) {
      // A record made in the field must survive the browser being closed or killed straight after:
      // writes are flushed to disk before they count as done (Chromium's default is "relaxed").
      var t = db.transaction(store, mode, mode === "readwrite" ? { durability: "strict" } : undefined);
      var result;
      var request = work(t.objectStore(store));
      if (request) request.onsuccess = function () { result = request.result; };
      t.oncomplete = function () { resolve(result); };
      t.onerror = function () { reject(t.error); };
      t.onabort = function () { reject(t.error); };
    });
  }

  function get(store, key) { return tx(store, "readonly", function (s) { return s.get(key); }); }
  function put(store, value) { return tx(store, "readwrite", function (s) { return s.put(value); }); }
  function del(store, key) { return tx(store, "readwrite", function (s) { return s.delete(key); }); }
  function all(store) { return tx(store, "readonly", function (s) { return s.getAll(); }); }

  function wipe() {
    // Everything the app keeps on the phone: the database, the shell's cache, the service worker.
    if (db) { db.close(); db = null; }
    var jobs = [new Promise(function (resolve) {
      var request = indexedDB.deleteDatabase(DB_NAME);
      request.onsuccess = request.onerror = request.onblocked = function () { resolve(); };
    })];
    if (window.caches) jobs.push(caches.keys().then(function (keys) { return Promise.all(keys.map(function (k) { return caches.delete(k); })); }));
    if (navigator.serviceWorker) {
      jobs.push(navigator.serviceWorker.getRegistrations().then(function (regs) { return Promise.all(regs.map(function (r) { return r.unregister(); })); }));
    }
    return Promise.all(jobs);
  }

  // ---- small helpers ----------------------------------------------------------------------------

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_m, k) { return values[k]; });
  }
  function uuid() { return crypto.randomUUID(); }
  function csrf() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  function notice(text) {
    var n = $("notice");
    n.textContent = text;
    n.hidden = !text;
  }
  function pad(n) { return String(n).padStart(2, "0"); }
  function localNow() {
    var d = new Date();
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }
  function today() { return localNow().slice(0, 10); }
  function number(value) {
    if (value === "" || value === undefined || value === null) return null;
    var n = Number(value);
    return isNaN(n) ? value : n;
  }
  function households() { return (data && data.households) || []; }
  function household(code) { return households().filter(function (h) { return h.code === code; })[0]; }

  // ---- the downloaded data ----------------------------------------------------------------------

  function download() {
    return fetch(C.offline, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 401 || response.redirected) throw new Error("login");
        if (!response.ok) throw new Error("http " + response.status);
        return response.json();
      })
      .then(function (fresh) {
        return get("meta", "owner").then(function (owner) {
          // Another person logged in on this phone: nothing of the last one's stays.
          if (owner && owner.value !== fresh.user) {
            return Promise.all([clearStore("records"), clearStore("drafts")]);
          }
        }).then(function () {
          return Promise.all([put("meta", { name: "owner", value: fresh.user }), put("meta", { name: "dataset", value: fresh })]);
        }).then(function () { data = fresh; drawAll(); });
      })
      .catch(function (error) {
        if (error.message === "login") notice(T.login_again);
        else if (navigator.onLine) notice(T.download_failed);
      });
  }

  function clearStore(store) { return tx(store, "readwrite", function (s) { return s.clear(); }); }

  // ---- drawing --------------------------------------------------------------------------------

  function drawNet() {
    var net = $("net");
    net.textContent = navigator.onLine ? T.online : T.offline;
    net.className = "net " + (navigator.onLine ? "on" : "off");
    $("downloaded").textContent = data ? T.downloaded + " " + new Date(data.downloaded_at).toLocaleString("zh-CN") : T.never;
  }

  function fillSelect(select, rows, optional) {
    var keep = select.value;
    select.textContent = "";
    select.appendChild(el("option", { value: "" }, optional ? "—" : T.choose));
    rows.forEach(function (r) { select.appendChild(el("option", { value: r[0] }, r[1])); });
    select.value = keep;
  }

  function drawSelects() {
    var mine = households().filter(function (h) { return h.mine; });
    document.querySelectorAll(".hh-select").forEach(function (s) {
      fillSelect(s, mine.map(function (h) { return [h.code, h.code + " " + h.address]; }), s.dataset.optional);
    });
    var cats = (data && data.categories) || [];
    document.querySelectorAll(".category-select").forEach(function (s) {
      fillSelect(s, cats.map(function (c) { return [c.code, c.name]; }));
    });
    fillSelect(document.querySelector(".relation-select"), ((data && data.relations) || []).map(function (r) { return [r.code, r.name]; }));
    fillSelect(document.querySelector(".language-select"), ((data && data.languages) || []).map(function (r) { return [r.code, r.name]; }));
    var units = (data && data.units) || [];
    fillSelect($("mobile-unit"), units.map(function (u) { return [String(u.id), u.name]; }));
    drawUnit();
    drawResidents();
    var box = $("mobile-services");
    if (!box.childElementCount) {
      ((data && data.services) || []).forEach(function (s) {
        var label = el("label", { class: "service" });
        var count = el("input", { type: "number", min: "0", value: "0", name: "service_" + s.code, id: "mobile-service-" + s.code });
        label.appendChild(document.createTextNode(s.name + " "));
        label.appendChild(count);
        box.appendChild(label);
      });
    }
  }

  function unitOf(id) { return ((data && data.units) || []).filter(function (u) { return String(u.id) === String(id); })[0]; }

  function drawUnit() {
    var unit = unitOf($("mobile-unit").value);
    fillSelect($("mobile-stop"), unit ? unit.stops.map(function (s) { return [String(s.id), s.planned_on + " " + s.label]; }) : [], true);
    fillSelect($("mobile-case-household"), unit ? unit.households.map(function (c) {
      var h = household(c);
      return [c, c + " " + (h ? h.address : "")];
    }) : [], true);
  }

  function drawResidents() {
    document.querySelectorAll(".resident-select").forEach(function (s) {
      var h = household($(s.dataset.for).value);
      fillSelect(s, h ? h.residents.map(function (r) { return [String(r.id), r.name + "（" + r.relation + "，" + r.id_number + "）"]; }) : [], true);
    });
  }

  function drawHouseholds() {
    var list = $("households");
    var q = $("hh-filter").value.trim();
    list.textContent = "";
    var rows = households().filter(function (h) {
      return !q || h.code.indexOf(q) >= 0 || h.address.indexOf(q) >= 0 || h.residents.some(function (r) { return r.name.indexOf(q) >= 0; });
    });
    if (!rows.length) list.appendChild(el("li", { class: "muted" }, T.no_households));
    rows.slice(0, 300).forEach(function (h) {
      var li = el("li", { "data-household": h.code });
      var head = el("div", { class: "hh-head" });
      head.appendChild(el("b", {}, h.code));
      head.appendChild(el("span", {}, " " + h.address + " · " + h.grid + " · " + h.residents.length + T.residents));
      head.appendChild(el("span", { class: "claim" }, h.claimed_by ? T.claimed_by + h.claimed_by_name : T.unclaimed));
      li.appendChild(head);
      var people = el("ul", { class: "residents" });
      h.residents.forEach(function (r) {
        people.appendChild(el("li", {}, r.name + " · " + r.relation + " · " + r.id_number + (r.phone ? " · " + r.phone : "")));
      });
      li.appendChild(people);
      if (h.mine) {
        var actions = el("div", { class: "hh-actions" });
        actions.appendChild(el("button", { type: "button", "data-go": "visit", "data-household": h.code }, T.visit));
        actions.appendChild(el("button", { type: "button", "data-go": "dispute", "data-household": h.code }, T.dispute));
        actions.appendChild(el("button", { type: "button", "data-go": "resident", "data-household": h.code }, T.resident));
        if (!h.claimed_by || h.claimed_by !== (data.worker && data.worker.code)) {
          actions.appendChild(el("button", { type: "button", "data-claim": h.code }, T.claim));
        }
        li.appendChild(actions);
      }
      list.appendChild(li);
    });
  }

  function stateText(r) {
    if (r.state === "uploading" && r.photos && r.photos.length) {
      var done = r.photos.filter(function (p) { return p.complete; }).length;
      return T.uploading + " " + done + "/" + r.photos.length;
    }
    return T[r.state] || r.state;
  }

  function drawQueue() {
    return all("records").then(function (records) {
      records.sort(function (a, b) { return a.created_at < b.created_at ? -1 : 1; });
      var list = $("queue");
      list.textContent = "";
      var open = records.filter(function (r) { return r.state !== "done"; }).length;
      $("queue-count").textContent = String(open);
      if (!records.length) list.appendChild(el("li", { class: "muted" }, T.nothing));
      records.forEach(function (r) {
        var li = el("li", { class: "record " + r.state, "data-client-id": r.client_id, "data-state": r.state });
        var head = el("div", {});
        head.appendChild(el("span", { class: "badge" }, stateText(r)));
        head.appendChild(el("b", {}, " " + (T[r.kind] || r.kind) + " "));
        head.appendChild(el("span", {}, r.label));
        li.appendChild(head);
        if (r.answer && r.answer.message) li.appendChild(el("p", { class: "answer" }, r.answer.message));
        if (r.answer && r.answer.todo && r.state !== "done") li.appendChild(el("p", { class: "todo" }, r.answer.todo));
        if ((r.state === "conflict" || r.state === "refused") && r.answer) {
          var actions = el("div", { class: "record-actions" });
          (r.answer.options || []).forEach(function (option) {
            if (option === "edit" && !r.data) return;
            actions.appendChild(el("button", { type: "button", "data-option": option, "data-client-id": r.client_id }, T[option] || option));
          });
          li.appendChild(actions);
        }
        list.appendChild(li);
      });
    });
  }

  function drawAll() {
    drawNet();
    if (data) { drawSelects(); drawHouseholds(); }
    return drawQueue();
  }

  function showTab(name) {
    document.querySelectorAll(".tab").forEach(function (t) { t.hidden = t.id !== "tab-" + name; });
    document.querySelectorAll(".tabs button").forEach(function (b) { b.classList.toggle("on", b.dataset.tab === name); });
  }

  // ---- drafts: every form as typed, kept in IndexedDB ---------------------------------------------

  function formValues(form) {
    var values = {};
    Array.prototype.forEach.call(form.elements, function (input) {
      if (!input.name || input.type === "file") return;
      values[input.name] = input.type === "checkbox" ? input.checked : input.value;
    });
    return values;
  }

  function saveDraft(form) {
    var draft = { form: form.id, values: formValues(form) };
    var files = form.querySelector("input[type=file]");
    return get("drafts", form.id).then(function (old) {
      draft.files = files && files.files.length ? Array.prototype.slice.call(files.files) : (old && old.files) || [];
      draft.editing = old && old.editing;
      return put("drafts", draft);
    }).then(function () { drawPhotoList(form, draft.files); });
  }

  function drawPhotoList(form, files) {
    var list = form.querySelector(".photo-list");
    if (list) list.textContent = files && files.length ? T.photos + "：" + files.map(function (f) { return f.name; }).join("、") : "";
  }

  function restoreDrafts() {
    return all("drafts").then(function (drafts) {
      drafts.forEach(function (draft) {
        var form = $(draft.form);
        if (!form) return;
        fill(form, draft.values);
        drawPhotoList(form, draft.files);
      });
    });
  }

  function fill(form, values) {
    Object.keys(values).forEach(function (name) {
      var input = form.elements[name];
      if (!input || input.type === "file") return;
      if (input.type === "checkbox") input.checked = !!values[name];
      else input.value = values[name];
    });
    if (form.id === "dispute-form") { drawResidents(); if (values.applicant_resident) form.elements.applicant_resident.value = values.applicant_resident; }
    if (form.id === "mobile-form") { drawUnit(); ["stop", "case_household"].forEach(function (n) { if (values[n]) form.elements[n].value = values[n]; }); }
  }

  function resetForm(form) {
    form.reset();
    if ($("visit-at")) $("visit-at").value = localNow();
    if ($("mobile-on")) $("mobile-on").value = today();
    drawPhotoList(form, []);
  }

  // ---- turning a form into a record ----------------------------------------------------------------

  function missing(form) {
    var empty = Array.prototype.filter.call(form.querySelectorAll("[required]"), function (i) { return !i.value.trim(); });
    return empty.map(function (i) { return i.closest("label") ? i.closest("label").firstChild.textContent.trim() : i.name; });
  }

  function payload(kind, v) {
    if (kind === "visit") {
      return {
        household: v.household, kind: v.kind, visited_at: new Date(v.visited_at).toISOString(),
        notes: v.notes, lat: number(v.lat), lng: number(v.lng),
      };
    }
    if (kind === "dispute") {
      var parties = [];
      if (v.applicant_resident) parties.push({ resident: Number(v.applicant_resident), role: "applicant" });
      else if (v.applicant_name) parties.push({ kind: "person", role: "applicant", name: v.applicant_name, phone: v.applicant_phone });
      if (v.respondent_name) parties.push({ kind: "person", role: "respondent", name: v.respondent_name });
      return {
        household: v.household, category: v.category, title: v.title, description: v.description,
        location: v.location, lat: number(v.lat), lng: number(v.lng), parties: parties,
        people_involved: Number(v.people_involved || 1),
      };
    }
    if (kind === "resident") {
      return {
        household: v.household, reason: v.reason, name: v.name, relation: v.relation, ethnicity: v.ethnicity,
        language: v.language, id_number: v.id_number, phone: v.phone,
      };
    }
    // mobile_stop
    var services = ((data && data.services) || []).map(function (s) {
      return { code: s.code, count: Number(v["service_" + s.code] || 0), note: "" };
    }).filter(function (s) { return s.count > 0; });
    var record = {
      unit: Number(v.unit), stop: v.stop ? Number(v.stop) : null, visited_on: v.visited_on,
      people_served: Number(v.people_served || 0), notes: v.notes, services: services, cases: [], items: [],
    };
    if (v.with_case) {
      record.cases.push({
        household: v.case_household, category: v.case_category, title: v.case_title, description: v.case_description,
        parties: v.case_applicant ? [{ kind: "person", role: "applicant", name: v.case_applicant }] : [],
      });
    }
    if (v.with_item) record.items.push({ kind: v.item_kind, title: v.item_title, description: v.item_description, household: v.case_household });
    return record;
  }

  function label(kind, v) {
    if (kind === "mobile_stop") {
      var unit = unitOf(v.unit);
      return (unit ? unit.name : "") + " " + v.visited_on;
    }
    var text = v.household || "";
    if (kind === "visit") text += " " + (v.notes || "").slice(0, 20);
    if (kind === "dispute") text += " " + (v.title || "");
    if (kind === "resident") text += " " + (v.name || "");
    return text.trim();
  }

  function sha256(blob) {
    return blob.arrayBuffer().then(function (buffer) { return crypto.subtle.digest("SHA-256", buffer); }).then(function (hash) {
      return Array.prototype.map.call(new Uint8Array(hash), function (b) { return b.toString(16).padStart(2, "0"); }).join("");
    });
  }

  function queueForm(form) {
    var kind = form.dataset.kind;
    var gaps = missing(form);
    if (gaps.length) { notice(fmt(T.required, { f: gaps.join("、") })); return Promise.resolve(); }
    var values = formValues(form);
    var input = form.querySelector("input[type=file]");
    return get("drafts", form.id).then(function (draft) {
      // The files chosen now, or those a draft kept across a closed browser.
      var files = input && input.files.length ? Array.prototype.slice.call(input.files) : (draft && draft.files) || [];
      return Promise.all(files.map(function (f) {
        return sha256(f).then(function (digest) {
          return { upload_id: uuid(), name: f.name, type: f.type || "image/jpeg", size: f.size, sha256: digest, blob: f, offset: 0, complete: false };
        });
      })).then(function (photos) {
        var editing = draft && draft.editing;
        return (editing ? get("records", editing) : Promise.resolve(null)).then(function (old) {
          var now = new Date().toISOString();
          var record = old || { client_id: uuid(), created_at: now, rev: 0 };
          record.kind = kind;
          record.label = label(kind, values);
          record.values = values;
          record.data = payload(kind, values);
          record.photos = photos.length || !old ? photos : old.photos;
          record.state = "queued";
          record.answer = null;
          record.rev = (record.rev || 0) + (old ? 1 : 0);
          record.updated_at = now;
          return put("records", record);
        });
      });
    }).then(function () { return del("drafts", form.id); }).then(function () {
      resetForm(form);
      notice(T.saved);
      return drawQueue();
    }).then(function () { if (navigator.onLine) syncAll(); });
  }

  function queueClaim(code) {
    var h = household(code);
    var now = new Date().toISOString();
    return put("records", {
      client_id: uuid(), kind: "claim", label: code, state: "queued", rev: 0, created_at: now, updated_at: now,
      data: { household: code, seen_claimed_by: h ? h.claimed_by : null }, photos: [], answer: null,
    }).then(function () { notice(T.saved); return drawQueue(); }).then(function () { if (navigator.onLine) syncAll(); });
  }

  // ---- sync -----------------------------------------------------------------------------------------

  function api(url, options) {
    options.credentials = "same-origin";
    options.headers = Object.assign({ "X-CSRFToken": csrf(), Accept: "application/json" }, options.headers || {});
    return fetch(url, options).then(function (response) {
      if (response.status === 401) throw new Error("login");
      return response.json().catch(function () { return {}; }).then(function (body) { return { status: response.status, body: body }; });
    });
  }

  function uploadPhoto(record, photo) {
    // Announce (answers how far the server got), then the chunks from that offset on.
    return api(C.uploads, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ upload_id: photo.upload_id, name: photo.name, size: photo.size, sha256: photo.sha256, content_type: photo.type }),
    }).then(function (answer) {
      if (answer.status !== 200) throw Object.assign(new Error("refused"), { answer: answer.body });
      photo.offset = answer.body.offset;
      photo.complete = answer.body.complete;
      return next();
    });
    function next() {
      if (photo.complete) return put("records", record);
      return put("records", record).then(function () {
        var end = Math.min(photo.offset + CHUNK, photo.size);
        return api(C.uploads + "/" + photo.upload_id + "/chunk", {
          method: "POST",
          headers: { "Content-Type": "application/offset+octet-stream", "Upload-Offset": String(photo.offset) },
          body: photo.blob.slice(photo.offset, end),
        });
      }).then(function (answer) {
        if (answer.status === 200 || answer.status === 409) {
          photo.offset = answer.body.offset;
          photo.complete = !!answer.body.complete;
          return next();
        }
        throw Object.assign(new Error("refused"), { answer: answer.body });
      });
    }
  }

  function finish(record, answer) {
    record.answer = answer;
    record.state = answer.status === "done" ? "done" : answer.status;
    record.updated_at = new Date().toISOString();
    if (record.state === "done") {
      // Answered: only the summary stays on the phone (no typed ID numbers, no photos).
      record.data = null;
      record.values = null;
      record.photos = (record.photos || []).map(function (p) { return { upload_id: p.upload_id, name: p.name, complete: true }; });
    }
    return put("records", record);
  }

  function syncOne(record) {
    var photos = record.photos || [];
    var pending = photos.filter(function (p) { return !p.complete; });
    var chain = Promise.resolve();
    if (pending.length) {
      record.state = "uploading";
      chain = put("records", record).then(drawQueue);
      pending.forEach(function (photo) { chain = chain.then(function () { return uploadPhoto(record, photo); }).then(drawQueue); });
    }
    return chain.then(function () {
      record.state = "sending";
      return put("records", record);
    }).then(function () {
      var data = Object.assign({}, record.data);
      if (record.kind === "visit") data.photos = photos.map(function (p) { return p.upload_id; });
      return api(C.sync, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Idempotency-Key": record.client_id + "." + record.rev },
        body: JSON.stringify({ client_id: record.client_id, kind: record.kind, data: data }),
      });
    }).then(function (answer) {
      if (answer.body && answer.body.status) return finish(record, answer.body);
      return finish(record, { status: "refused", message: answer.body.detail || String(answer.status), options: ["edit", "discard"] });
    }).catch(function (error) {
      if (error.answer) return finish(record, { status: "refused", message: error.answer.detail || "", options: ["edit", "discard"] });
      // The network went (or the session): the record waits where it is, photos resume at their offsets
      // (it shows as uploading only once a photo has part-arrived).
      record.state = photos.some(function (p) { return !p.complete && p.offset > 0; }) ? "uploading" : "queued";
      return put("records", record).then(function () { throw error; });
    });
  }

  function syncAll() {
    // Offline (or a download that answered after the network went), nothing is tried: records stay queued.
    if (!db || !navigator.onLine) return Promise.resolve();
    // A record queued while a round runs (which read the queue before it) goes in the round after.
    if (syncing) { syncAgain = true; return syncing; }
    syncing = all("records").then(function (records) {
      var waiting = records.filter(function (r) { return r.state === "queued" || r.state === "uploading" || r.state === "sending"; });
      waiting.sort(function (a, b) { return a.created_at < b.created_at ? -1 : 1; });
      var chain = Promise.resolve();
      waiting.forEach(function (r) { chain = chain.then(function () { return syncOne(r); }).then(drawQueue); });
      return chain;
    }).then(function () {
      notice("");
    }, function (error) {
      notice(error.message === "login" ? T.login_again : T.offline);
    }).then(function () {
      syncing = null;
      drawQueue();
      if (syncAgain) { syncAgain = false; return syncAll(); }
      if (navigator.onLine) return download();
    });
    return syncing;
  }

  function choose(clientId, option) {
    return get("records", clientId).then(function (record) {
      if (!record) return;
      if (option === "discard") return del("records", clientId);
      if (option === "edit") {
        var form = document.querySelector("form[data-kind=" + record.kind + "]");
        return put("drafts", { form: form.id, values: record.values || {}, files: [], editing: clientId }).then(function () {
          fill(form, record.values || {});
          showTab(form.closest(".tab").id.replace("tab-", ""));
        });
      }
      // confirm / retry: sent again under a new revision (a new Idempotency-Key), the same client id.
      if (option === "confirm") record.data.confirm_repeat = true;
      record.rev = (record.rev || 0) + 1;
      record.state = "queued";
      return put("records", record).then(function () { if (navigator.onLine) return syncAll(); });
    }).then(drawQueue);
  }

  // ---- events ----------------------------------------------------------------------------------

  function bind() {
    document.addEventListener("click", function (event) {
      var tab = event.target.closest("[data-tab]");
      if (tab) { showTab(tab.dataset.tab); return; }
      var go = event.target.closest("[data-go]");
      if (go) {
        var form = document.querySelector("form[data-kind=" + go.dataset.go + "]");
        form.elements.household.value = go.dataset.household;
        form.elements.household.dispatchEvent(new Event("change", { bubbles: true }));
        showTab(go.dataset.go);
        return;
      }
      var claim = event.target.closest("[data-claim]");
      if (claim) { queueClaim(claim.dataset.claim); return; }
      var option = event.target.closest("[data-option]");
      if (option) { choose(option.dataset.clientId, option.dataset.option); return; }
      var locate = event.target.closest(".locate");
      if (locate && navigator.geolocation) {
        navigator.geolocation.getCurrentPosition(function (p) {
          $(locate.dataset.lat).value = p.coords.latitude.toFixed(6);
          $(locate.dataset.lng).value = p.coords.longitude.toFixed(6);
          saveDraft(locate.closest("form"));
        }, function () { notice(T.position_failed); }, { enableHighAccuracy: true, timeout: 20000 });
      }
    });
    $("download").addEventListener("click", download);
    $("sync-now").addEventListener("click", function () { syncAll(); });
    $("hh-filter").addEventListener("input", drawHouseholds);
    $("dispute-household").addEventListener("change", drawResidents);
    $("mobile-unit").addEventListener("change", drawUnit);
    document.querySelectorAll("#fieldapp form").forEach(function (form) {
      form.addEventListener("input", function () { saveDraft(form); });
      form.addEventListener("change", function () { saveDraft(form); });
      form.addEventListener("submit", function (event) { event.preventDefault(); queueForm(form); });
    });
    window.addEventListener("online", function () { drawNet(); syncAll(); });
    window.addEventListener("offline", drawNet);
    // Logging out wipes the phone: the database, the caches and the service worker go first.
    var logout = document.querySelector("form.who");
    if (logout) {
      logout.addEventListener("submit", function (event) {
        event.preventDefault();
        all("records").then(function (records) {
          var open = records.filter(function (r) { return r.state !== "done"; }).length;
          if (open && !window.confirm(fmt(T.logout_unsynced, { n: open }))) return;
          return wipe().then(function () { logout.submit(); });
        });
      });
    }
  }

  function start() {
    bind();
    resetForm($("visit-form"));
    resetForm($("mobile-form"));
    if (navigator.serviceWorker) navigator.serviceWorker.register(C.sw, { scope: C.scope });
    openDb().then(function (opened) {
      db = opened;
      return get("meta", "dataset");
    }).then(function (stored) {
      data = stored ? stored.value : null;
      return drawAll();
    }).then(restoreDrafts).then(function () {
      document.body.dataset.ready = "1";
      if (navigator.onLine) return download().then(syncAll);
    });
  }

  document.addEventListener("DOMContentLoaded", start);
})();
