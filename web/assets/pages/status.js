// pages/status.js: pages that only explain: "needs the admin role" and
// "not found". They load no data.
import { h, replace } from '../dom.js';
import { session } from '../state.js';

export async function forbiddenPage(ctx) {
  replace(ctx.view, h('section', { class: 'status-page card' },
    h('p', { class: 'status-page__code' }, '403'),
    h('h1', { class: 'page-title', tabindex: '-1' }, 'This page needs the admin role'),
    h('p', null, 'You are signed in as ', h('strong', null, session.user?.email || ''),
      ', which does not have the admin role. If you need it, ask an administrator.'),
    h('p', null, h('a', { href: '/', class: 'btn btn--primary' }, 'Go to Get access'))));
}

export async function notFoundPage(ctx) {
  replace(ctx.view, h('section', { class: 'status-page card' },
    h('p', { class: 'status-page__code' }, '404'),
    h('h1', { class: 'page-title', tabindex: '-1' }, 'Page not found'),
    h('p', null, 'There is nothing at ', h('code', null, ctx.url.pathname), '.'),
    h('p', null, h('a', { href: '/', class: 'btn btn--primary' }, session.user ? 'Go to Get access' : 'Sign in'))));
}
