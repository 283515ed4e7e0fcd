// shell.js: the page frame: brand, main navigation (admin entries only for
// admins), the signed-in user and sign-out.
import { h, replace } from './dom.js';
import { api } from './api.js';
import { session, server, isAdmin, clearSession } from './state.js';
import { navigate } from './router.js';
import { toast } from './ui.js';

function navLink(href, label, active) {
  return h('a', { href, class: 'nav__link', 'aria-current': active ? 'page' : null }, label);
}

export async function signOut() {
  try {
    await api.del('/session', { quiet: true });
  } catch {
    // The session may already be gone; signing out locally is what matters.
  }
  clearSession();
  session.notice = 'You have signed out.';
  navigate('/signin', { replace: true });
}

/** Draws the header for a route: section is 'access' | 'leases' | 'admin' | null. */
export function renderHeader(section) {
  const header = document.getElementById('header');
  const brand = h('a', { href: '/', class: 'brand' },
    h('img', { src: '/assets/favicon.svg', alt: '', width: '28', height: '28', class: 'brand__logo' }),
    h('span', { class: 'brand__name' }, server.name));
  const user = session.user;
  if (!user || user.must_change_password) {
    replace(header, h('div', { class: 'header__inner' }, brand,
      user ? h('div', { class: 'header__user' },
        h('button', { type: 'button', class: 'btn btn--ghost btn--small', onclick: signOut }, 'Sign out')) : null));
    return;
  }
  const nav = h('nav', { class: 'nav', 'aria-label': 'Main' },
    navLink('/', 'Get access', section === 'access'),
    navLink('/leases', 'My leases', section === 'leases'),
    isAdmin() ? navLink('/admin/users', 'Admin', section === 'admin') : null);
  const who = h('div', { class: 'header__user' },
    h('a', { href: '/password', class: 'header__email', title: 'Change your password' }, user.email),
    h('a', { href: '/security', class: 'btn btn--ghost btn--small' }, 'Security'),
    h('button', { type: 'button', class: 'btn btn--ghost btn--small', onclick: signOut }, 'Sign out'));
  replace(header, h('div', { class: 'header__inner' }, brand, nav, who));
}

/** Shown once after an action elsewhere sends the user back here. */
export function flash(message, tone) {
  toast(message, tone);
}
