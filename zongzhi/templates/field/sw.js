/* The field app's service worker (zongzhi/field/app_views.py renders it with the shell's URLs).
   It keeps the app shell for offline use and nothing else: the households and the queue live in
   IndexedDB, written by the page from the authenticated API; API calls are never cached here. */
"use strict";
const VERSION = {{ version|safe }};
const SHELL = {{ shell|safe }};
const CACHE = "zongzhi-field-shell-" + VERSION;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(SHELL.map((url) => new Request(url, { credentials: "same-origin" }))))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("zongzhi-field-shell-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;
  if (request.mode === "navigate" && url.pathname === SHELL[0]) {
    // The shell: the network first (a fresh page, or the login when the session ended), the copy offline.
    event.respondWith(
      fetch(request).then((response) => {
        if (response.ok && response.type === "basic") {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(SHELL[0], copy));
        }
        return response;
      }).catch(() => caches.match(SHELL[0]).then((hit) => hit || Response.error()))
    );
    return;
  }
  if (SHELL.includes(url.pathname)) {
    event.respondWith(caches.match(url.pathname).then((hit) => hit || fetch(request)));
  }
});
