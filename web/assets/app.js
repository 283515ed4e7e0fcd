// app.js: start-up and the route table. Loads the server's info and the
// session, then renders one page per path; each page gets a fresh view and
// registers cleanups (timers) that run when the user leaves it.
import { h } from './dom.js';
import { setAuthProblemHandler } from './api.js';
import { session, server, isAdmin, loadInfo, loadMe, clearSession, mustChangePassword } from './state.js';
import { startRouter, navigate, safeNext } from './router.js';
import { renderHeader } from './shell.js';
import { errorState, pageHeader } from './ui.js';
import signinPage from './pages/signin.js';
import passwordPage from './pages/password.js';
import securityPage from './pages/security.js';
import accessPage from './pages/access.js';
import leasesPage from './pages/leases.js';
import invitePage from './pages/invite.js';
import approvePage from './pages/approve.js';
import setPasswordPage from './pages/set_password.js';
import { forbiddenPage, notFoundPage } from './pages/status.js';
import usersPage from './pages/admin/users.js';
import groupsPage from './pages/admin/groups.js';
import servicesPage from './pages/admin/services.js';
import accessGroupsPage from './pages/admin/access_groups.js';
import policiesPage from './pages/admin/policies.js';
import adminLeasesPage from './pages/admin/leases.js';
import auditPage from './pages/admin/audit.js';
import notificationsPage from './pages/admin/notifications.js';

// auth: 'public' (anyone), 'any' (signed in, even before the forced password
// change), 'user' (signed in), 'admin' (signed in with the admin role).
const ROUTES = [
  { path: '/signin', title: 'Sign in', auth: 'public', page: signinPage },
  { path: '/password', title: 'Change password', auth: 'any', page: passwordPage },
  { path: '/security', title: 'Security', auth: 'user', page: securityPage },
  { path: '/', title: 'Get access', auth: 'user', section: 'access', page: accessPage },
  { path: '/leases', title: 'My leases', auth: 'user', section: 'leases', page: leasesPage },
  { path: '/admin', redirect: '/admin/users' },
  { path: '/admin/users', title: 'Users', auth: 'admin', section: 'admin', page: usersPage },
  { path: '/admin/groups', title: 'Groups', auth: 'admin', section: 'admin', page: groupsPage },
  { path: '/admin/services', title: 'Services', auth: 'admin', section: 'admin', page: servicesPage },
  { path: '/admin/access-groups', title: 'Access groups', auth: 'admin', section: 'admin', page: accessGroupsPage },
  { path: '/admin/policies', title: 'Policies', auth: 'admin', section: 'admin', page: policiesPage },
  { path: '/admin/leases', title: 'All leases', auth: 'admin', section: 'admin', page: adminLeasesPage },
  { path: '/admin/audit', title: 'Audit log', auth: 'admin', section: 'admin', page: auditPage },
  { path: '/admin/notifications', title: 'Notifications', auth: 'admin', section: 'admin', page: notificationsPage },
  // Pages that emailed links open: public, the token in the path is the credential.
  { pattern: /^\/invite\/([^/]+)$/, title: 'Invitation', auth: 'public', page: invitePage },
  { pattern: /^\/approve\/([^/]+)$/, title: 'Access request', auth: 'public', page: approvePage },
  { pattern: /^\/set-password\/([^/]+)$/, title: 'Choose your password', auth: 'public', page: setPasswordPage },
];

let current = null;
let firstRender = true;

function match(pathname) {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  for (const r of ROUTES) {
    if (r.path === path) return { route: r, params: [] };
    const m = r.pattern && r.pattern.exec(path);
    if (m) {
      try {
        return { route: r, params: m.slice(1).map(decodeURIComponent) };
      } catch {
        break; // a malformed %-escape: no page matches
      }
    }
  }
  if (path.startsWith('/admin/')) return { route: { title: 'Not found', auth: 'admin', section: 'admin', page: notFoundPage }, params: [] };
  return { route: { title: 'Not found', auth: 'public', page: notFoundPage }, params: [] };
}

async function render(url) {
  if (current) current.cleanups.splice(0).forEach((fn) => fn());
  const { route, params } = match(url.pathname);
  const here = url.pathname + url.search;
  if (route.redirect) return navigate(route.redirect, { replace: true });
  if (route.auth !== 'public' && !session.user) {
    return navigate(`/signin?next=${encodeURIComponent(here)}`, { replace: true });
  }
  if (session.user && mustChangePassword() && route.auth !== 'public' && route.path !== '/password') {
    return navigate(`/password?next=${encodeURIComponent(here)}`, { replace: true });
  }
  if (route.path === '/signin' && session.user) {
    return navigate(safeNext(url.searchParams.get('next')), { replace: true });
  }
  let page = route.page;
  let title = route.title;
  if (route.auth === 'admin' && !isAdmin()) {
    page = forbiddenPage;
    title = 'Admin only';
  }
  renderHeader(route.section || null);
  document.title = `${title} · ${server.name}`;
  const main = document.getElementById('main');
  const view = h('div', { class: 'view' });
  main.replaceChildren(view);
  const ctx = {
    view,
    url,
    params,
    query: url.searchParams,
    cleanups: [],
    onCleanup(fn) { this.cleanups.push(fn); },
    isCurrent() { return current === ctx; },
  };
  current = ctx;
  window.scrollTo(0, 0);
  try {
    await page(ctx);
  } catch (error) {
    if (ctx.isCurrent()) view.replaceChildren(errorState(error, () => render(new URL(window.location.href))));
  }
  // Move focus to the new page's heading so screen readers announce it.
  if (!firstRender && ctx.isCurrent()) {
    const heading = view.querySelector('h1');
    if (heading) heading.focus({ preventScroll: true });
  }
  firstRender = false;
  return undefined;
}

setAuthProblemHandler((error) => {
  const here = window.location.pathname + window.location.search;
  if (error.code === 'password_change_required') {
    if (session.user) session.user.must_change_password = true;
    navigate(`/password?next=${encodeURIComponent(here)}`, { replace: true });
    return;
  }
  if (!session.user) return;
  clearSession();
  session.notice = 'Your session has ended. Please sign in again.';
  navigate(`/signin?next=${encodeURIComponent(here)}`, { replace: true });
});

async function boot() {
  // The modules loaded: forget the reloads boot.js counted.
  try { window.sessionStorage.removeItem('pinhole-boot-retries'); } catch { /* no storage */ }
  try {
    await Promise.all([loadInfo(), loadMe()]);
  } catch (error) {
    renderHeader(null);
    document.getElementById('main').replaceChildren(h('div', { class: 'view' },
      pageHeader('The portal could not start'),
      errorState(error, () => window.location.reload())));
    return;
  }
  await startRouter(render);
}

boot();
