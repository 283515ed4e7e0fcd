// The portal's Security page in a real browser: sign in, set up TOTP from
// the page (the code computed here from the key the page shows, as an
// authenticator app would), see the recovery codes once, sign in again with
// a code, and create and revoke an API token. Run by
// tests/e2e/test_connection.py, which starts pinholed.
//
// Env: PINHOLE_URL, PINHOLE_EMAIL, PINHOLE_PASSWORD, PINHOLE_CHROMIUM
// (default /usr/bin/chromium).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { chromium } from 'playwright-core';

function env(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`security test: ${name} is not set`);
    process.exit(2);
  }
  return v;
}

const BASE = env('PINHOLE_URL').replace(/\/+$/, '');
const EMAIL = env('PINHOLE_EMAIL');
const PASSWORD = env('PINHOLE_PASSWORD');
const CHROMIUM = process.env.PINHOLE_CHROMIUM || '/usr/bin/chromium';

// RFC 6238 with SHA-1, 6 digits, 30 s steps; `offset` in steps.
function totp(base32, offset = 0) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of base32.replace(/=+$/, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000) + offset));
  const mac = crypto.createHmac('sha1', key).update(counter).digest();
  const at = mac[mac.length - 1] & 15;
  return String((mac.readUInt32BE(at) & 0x7fffffff) % 1000000).padStart(6, '0');
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const problems = [];
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(15000);
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // Over plain HTTP chromium notes that it ignores Cross-Origin-Opener-Policy;
  // anything else logged as an error (a CSP refusal, a script error) counts.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 4\d\d|Cross-Origin-Opener-Policy/.test(m.text())) problems.push(m.text());
  });

  await page.goto(`${BASE}/signin`);
  await page.fill('input[name="email"]', EMAIL);
  await page.fill('input[name="password"]', PASSWORD);
  await page.click('button[type="submit"]');
  await page.getByRole('link', { name: 'Security' }).click();
  await page.waitForURL(`${BASE}/security`);

  // Enrolment: a QR code and the key; the first code turns it on.
  await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
  await page.locator('svg[aria-label="QR code for your authenticator app"]').waitFor();
  const secret = (await page.locator('code.secret').first().textContent()).trim();
  assert.match(secret, /^[A-Z2-7]{32}$/);
  await page.fill('input[name="code"]', totp(secret));
  await page.getByRole('button', { name: 'Turn on' }).click();
  const codes = (await page.locator('pre.code-block').textContent()).trim().split('\n');
  assert.equal(codes.length, 10);
  await page.getByRole('button', { name: 'Done' }).click();
  await page.getByText('10 recovery code(s) left').waitFor();

  // An API token: shown once, listed, revoked.
  await page.fill('input[name="name"]', 'browser token');
  await page.getByRole('button', { name: 'Create' }).click();
  const token = (await page.locator('code.secret').first().textContent()).trim();
  assert.match(token, /^pht_/);
  const me = await page.evaluate(async (t) => (await fetch('/api/v1/me', { headers: { Authorization: `Bearer ${t}` } })).status, token);
  assert.equal(me, 200);
  await page.getByRole('button', { name: 'Revoke' }).click();
  await page.getByText('You have no API tokens or access keys.').waitFor();

  // A new sign-in needs the code now (the next step's: this one was used).
  const fresh = await browser.newPage();
  await fresh.goto(`${BASE}/signin`);
  await fresh.fill('input[name="email"]', EMAIL);
  await fresh.fill('input[name="password"]', PASSWORD);
  await fresh.fill('input[name="totp"]', totp(secret, 1));
  await fresh.click('button[type="submit"]');
  await fresh.getByRole('link', { name: 'Security' }).waitFor();

  // An admin sees the second factor in the users list and resets it.
  const ADMIN_EMAIL = process.env.PINHOLE_ADMIN_EMAIL;
  if (ADMIN_EMAIL) {
    const admin = await (await browser.newContext()).newPage();
    admin.setDefaultTimeout(15000);
    admin.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await admin.goto(`${BASE}/signin`);
    await admin.fill('input[name="email"]', ADMIN_EMAIL);
    await admin.fill('input[name="password"]', env('PINHOLE_ADMIN_PASSWORD'));
    await admin.click('button[type="submit"]');
    await admin.getByRole('link', { name: 'Security' }).waitFor();
    await admin.goto(`${BASE}/admin/users`);
    const row = admin.locator('tr', { hasText: EMAIL });
    await row.getByText('MFA', { exact: true }).waitFor();
    await row.getByRole('button', { name: 'Reset MFA' }).click();
    await admin.getByText(`${EMAIL} must set up a second factor again`).waitFor();
  }
  assert.deepEqual(problems, []);
  console.log('security page: enrolment, recovery codes, token create/revoke and sign-in with a code work');
} finally {
  await browser.close();
}
