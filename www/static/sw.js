'use strict';
// The service worker that keeps the page working offline once it has been
// loaded: installing stores the page's files; each request is then
// answered from the network while there is one (so that a new build is
// taken at once, and stored), and from the stored copy when there is not.
// Browsers run service workers over http://localhost and https only: a
// page opened as file:// has none (and cannot start its Web Worker
// either; the README says how to serve the folder).

const CACHE = 'shark-page';
// './' is the page itself: the address a user opens, whatever the host
// answers it with.
const FILES = ['./', 'app.js', 'style.css', 'worker.js', 'wasm_exec.js', 'shark.wasm'];

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(FILES)).then(() => self.skipWaiting()));
});

// Taking the open pages at once, so that the first visit is covered too.
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (e) => {
  const req = e.request;
  if (req.method !== 'GET' || new URL(req.url).origin !== self.location.origin) return;
  e.respondWith(fetch(req).then((res) => {
    if (res.ok) {
      const copy = res.clone();
      e.waitUntil(caches.open(CACHE).then((c) => c.put(req, copy)));
    }
    return res;
  }, () => stored(req)));
});

// stored answers req from the cache; a page address not stored as it was
// asked (index.html, a query) is the page.
async function stored(req) {
  const c = await caches.open(CACHE);
  const res = await c.match(req, { ignoreSearch: true }) || (req.mode === 'navigate' && await c.match('./'));
  return res || Response.error();
}
