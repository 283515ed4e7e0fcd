// format.js: times and durations for people. Times show in the viewer's
// local zone; the RFC 3339 UTC form goes in the title (see ui.timeEl).

const UNITS = { s: 1, m: 60, h: 3600, d: 86400 };

/** "1h30m", "90s", "2d", "45" (seconds) -> seconds, or null if malformed. */
export function parseDuration(text) {
  const s = String(text ?? '').trim().replace(/\s+/g, '').toLowerCase();
  if (!s) return null;
  if (/^\d+$/.test(s)) return Number(s);
  if (!/^(\d+[dhms])+$/.test(s)) return null;
  let total = 0;
  for (const [, n, u] of s.matchAll(/(\d+)([dhms])/g)) total += Number(n) * UNITS[u];
  return total;
}

/** 37800 -> "10h 30m"; short, for limits and labels. */
export function humanDuration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return '—';
  let s = Math.max(0, Math.round(seconds));
  const parts = [];
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]]) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  return parts.length ? parts.slice(0, 2).join(' ') : '0s';
}

/** Seconds -> the API's compact form: 5400 -> "1h30m". */
export function apiDuration(seconds) {
  let s = Math.round(seconds);
  let out = '';
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]]) {
    if (s >= size) {
      out += `${Math.floor(s / size)}${unit}`;
      s %= size;
    }
  }
  return out || '0s';
}

/** Remaining time with seconds, for live countdowns: "4h 59m 58s". */
export function countdown(seconds) {
  if (seconds <= 0) return 'ended';
  let s = Math.floor(seconds);
  const d = Math.floor(s / 86400); s %= 86400;
  const hrs = Math.floor(s / 3600); s %= 3600;
  const m = Math.floor(s / 60); s %= 60;
  const pad = (n) => String(n).padStart(2, '0');
  if (d) return `${d}d ${hrs}h ${pad(m)}m ${pad(s)}s`;
  if (hrs) return `${hrs}h ${pad(m)}m ${pad(s)}s`;
  if (m) return `${m}m ${pad(s)}s`;
  return `${s}s`;
}

export function secondsUntil(iso) {
  return (Date.parse(iso) - Date.now()) / 1000;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });
const withSeconds = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** Local rendering of an RFC 3339 time; today's times drop the date. */
export function localTime(iso, { seconds = false } = {}) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso ?? '');
  if (seconds) return withSeconds.format(d);
  const now = new Date();
  const sameDay = d.toDateString() === now.toDateString();
  return sameDay ? `today ${timeOnly.format(d)}` : dateTime.format(d);
}

/** RFC 3339 UTC without milliseconds: "2026-11-21T09:30:00Z". */
export function utcString(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso ?? '');
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Value of an <input type=datetime-local> (local time) -> RFC 3339 UTC. */
export function localInputToUtc(value) {
  if (!value) return '';
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? '' : utcString(d.toISOString());
}

/** RFC 3339 -> value for an <input type=datetime-local>. */
export function utcToLocalInput(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}
