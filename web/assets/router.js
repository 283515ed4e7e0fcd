// router.js: client-side routing with real paths (History API). Clicks on
// internal <a href> links are intercepted; the server answers every non-API
// path with index.html, so a reload lands on the same page.

let handler = () => {};

/** Starts routing: fn(url) renders the page for a URL object. */
export function startRouter(fn) {
  handler = fn;
  window.addEventListener('popstate', () => handler(new URL(window.location.href)));
  document.addEventListener('click', onClick);
  return handler(new URL(window.location.href));
}

/** Goes to an internal path ("/leases", "/signin?next=%2F"). */
export function navigate(path, { replace = false } = {}) {
  const url = new URL(path, window.location.origin);
  const same = url.pathname + url.search === window.location.pathname + window.location.search;
  if (replace || same) window.history.replaceState({}, '', url);
  else window.history.pushState({}, '', url);
  return handler(url);
}

/** Re-renders the current page (after a sign-in, for instance). */
export function reload() {
  return handler(new URL(window.location.href));
}

function onClick(event) {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const a = event.target.closest('a[href]');
  if (!a || a.target || a.hasAttribute('download') || a.dataset.external !== undefined) return;
  const url = new URL(a.href, window.location.href);
  if (url.origin !== window.location.origin) return;
  if (url.pathname.startsWith('/api/') || url.pathname.startsWith('/assets/')) return;
  if (url.hash && url.pathname === window.location.pathname && url.search === window.location.search) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
}

/** Only same-site paths are accepted as a place to return to after sign-in. */
export function safeNext(value) {
  const ok = typeof value === 'string' && value.startsWith('/') && !value.startsWith('//')
    && !value.startsWith('/\\') && !value.startsWith('/signin');
  return ok ? value : '/';
}
