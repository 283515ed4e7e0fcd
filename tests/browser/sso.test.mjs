// Single sign-on in a real browser: the portal's "Sign in with <provider>"
// button, the provider's own login and consent pages (oidc-provider's
// built-in ones), and back in the portal, signed in. Run by
// tests/e2e/test_oidc.py, which starts pinholed and the provider.
//
// Env: PINHOLE_URL, PINHOLE_SSO_NAME (the button's display name),
// PINHOLE_SSO_LOGIN (an account at the provider), PINHOLE_SSO_EMAIL (its
// email), PINHOLE_CHROMIUM (default /usr/bin/chromium).
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

function env(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`sso test: ${name} is not set`);
    process.exit(2);
  }
  return v;
}

const BASE = env('PINHOLE_URL').replace(/\/+$/, '');
const NAME = env('PINHOLE_SSO_NAME');
const LOGIN = env('PINHOLE_SSO_LOGIN');
const EMAIL = env('PINHOLE_SSO_EMAIL');
const CHROMIUM = process.env.PINHOLE_CHROMIUM || '/usr/bin/chromium';

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(15000);
  await page.goto(`${BASE}/signin?next=${encodeURIComponent('/leases')}`);
  const button = page.getByRole('link', { name: `Sign in with ${NAME}` });
  await button.waitFor();
  await button.click();

  // The provider's login page, then its consent page.
  await page.waitForURL((url) => url.pathname.startsWith('/interaction/'));
  await page.fill('input[name="login"]', LOGIN);
  await page.fill('input[name="password"]', 'any password');
  await page.click('button[type="submit"]');
  await page.waitForURL((url) => url.pathname.startsWith('/interaction/') || url.origin === BASE);
  if (new URL(page.url()).origin !== BASE) {
    await page.click('button[type="submit"]');  // "Continue" on the consent page
  }

  // Back in the portal, on the page asked for, signed in.
  await page.waitForURL(`${BASE}/leases`);
  const me = await page.evaluate(async () => {
    const r = await fetch('/api/v1/me', { headers: { Accept: 'application/json' } });
    return { status: r.status, body: await r.json() };
  });
  assert.equal(me.status, 200);
  assert.equal(me.body.user.email, EMAIL);
  assert.equal(me.body.user.source, 'oidc');
  await page.getByText(EMAIL).first().waitFor();
  console.log(`sso test: signed in as ${EMAIL} through "${NAME}"`);
} finally {
  await browser.close();
}
