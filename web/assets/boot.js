// boot.js: a plain script that runs before the portal's modules. When one of
// them fails to load (a dropped connection; a network change, which makes
// the browser abort what is in flight), the page would stay on "Loading…"
// for good: reload it, twice at most, then show the note to reload by hand.
(function () {
  var KEY = 'pinhole-boot-retries';
  function tries() {
    try { return Number(window.sessionStorage.getItem(KEY) || 0); } catch (e) { return 99; }
  }
  window.addEventListener('error', function (event) {
    var el = event.target;
    if (!el || el.tagName !== 'SCRIPT' || el.type !== 'module') return;
    var n = tries();
    if (n < 2) {
      try { window.sessionStorage.setItem(KEY, String(n + 1)); } catch (e) { /* no storage: no retry */ }
      window.setTimeout(function () { window.location.reload(); }, 400 * (n + 1));
      return;
    }
    document.documentElement.classList.add('boot-failed');
  }, true);
}());
