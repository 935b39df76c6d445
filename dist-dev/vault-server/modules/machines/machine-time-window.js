/**
 * Time-of-day windows for temp-bootstrap machines: `[DAYS ]HH:MM-HH:MM ZONE`, e.g.
 * `Mon-Fri 08:00-18:00 Europe/Oslo`, `22:00-06:00 UTC`, `Sat,Sun 10:00-14:00 America/New_York`.
 *
 * - DAYS (optional; default every day): three-letter English day names, single days or ranges,
 *   comma-separated (`Mon-Fri`, `Mon,Wed,Fri`, `Fri-Mon` wraps over the weekend).
 * - HH:MM-HH:MM: start inclusive, end exclusive, local time in ZONE; `24:00` may end a window.
 *   A window whose end is earlier than its start crosses midnight: it belongs to the day it
 *   starts on, so `Fri 22:00-06:00` allows Friday 22:00 until Saturday 06:00.
 * - ZONE: an IANA time zone (validated with Intl; `UTC` works). Required: a guardrail that
 *   silently used the server's zone would be a surprise.
 *
 * Local weekday and time come from Intl.DateTimeFormat in the window's zone, so daylight-saving
 * changes are the zone database's business, not ours.
 *
 * @example
 *   const w = parseTimeWindow('Mon-Fri 08:00-18:00 Europe/Oslo');
 *   isInsideWindow(w, Date.parse('2024-03-04T09:00:00Z')); // true (Monday 10:00 in Oslo)
 */
import { SikkerKeyError } from '../../../protocol/errors.js';
export const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const SYNTAX = 'expected "[DAYS ]HH:MM-HH:MM ZONE", e.g. "Mon-Fri 08:00-18:00 Europe/Oslo"';
function invalid(text, why) {
    return new SikkerKeyError('SK_ERR_VALIDATION', `time window ${JSON.stringify(text.slice(0, 80))}: ${why} (${SYNTAX})`);
}
function dayIndex(text, name) {
    const i = DAY_NAMES.findIndex((d) => d.toLowerCase() === name.toLowerCase());
    if (i === -1)
        throw invalid(text, `unknown day ${JSON.stringify(name)} (use ${DAY_NAMES.join(', ')})`);
    return i;
}
function parseDays(text, spec) {
    const days = new Set();
    for (const part of spec.split(',')) {
        const range = part.split('-');
        if (range.length === 1) {
            days.add(dayIndex(text, range[0]));
        }
        else if (range.length === 2) {
            const from = dayIndex(text, range[0]);
            const to = dayIndex(text, range[1]);
            // Fri-Mon wraps over the weekend.
            for (let d = from;; d = (d + 1) % 7) {
                days.add(d);
                if (d === to)
                    break;
            }
        }
        else {
            throw invalid(text, `bad day range ${JSON.stringify(part)}`);
        }
    }
    return days;
}
function parseClock(text, clock, allow24) {
    const m = /^(\d{2}):(\d{2})$/.exec(clock);
    if (!m)
        throw invalid(text, `bad time ${JSON.stringify(clock)}`);
    const h = Number(m[1]);
    const min = Number(m[2]);
    if (h === 24 && min === 0 && allow24)
        return 1440;
    if (h > 23 || min > 59)
        throw invalid(text, `bad time ${JSON.stringify(clock)}`);
    return h * 60 + min;
}
const formatters = new Map();
function formatterFor(zone) {
    let f = formatters.get(zone);
    if (!f) {
        f = new Intl.DateTimeFormat('en-US', { timeZone: zone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
        if (formatters.size > 1000)
            formatters.clear();
        formatters.set(zone, f);
    }
    return f;
}
/** Throws SK_ERR_VALIDATION naming what is wrong. */
export function parseTimeWindow(input) {
    if (typeof input !== 'string' || input.length > 200)
        throw invalid(String(input), 'too long');
    const parts = input.trim().split(/\s+/);
    if (parts.length < 2 || parts.length > 3)
        throw invalid(input, 'wrong number of parts');
    const zone = parts[parts.length - 1];
    const range = parts[parts.length - 2];
    const daySpec = parts.length === 3 ? parts[0] : undefined;
    try {
        formatterFor(zone);
    }
    catch {
        throw invalid(input, `unknown IANA time zone ${JSON.stringify(zone)}`);
    }
    const [from, to, extra] = range.split('-');
    if (from === undefined || to === undefined || extra !== undefined)
        throw invalid(input, `bad time range ${JSON.stringify(range)}`);
    const startMinute = parseClock(input, from, false);
    const endMinute = parseClock(input, to, true);
    if (startMinute === endMinute)
        throw invalid(input, 'start and end are the same time');
    const days = daySpec === undefined ? new Set([0, 1, 2, 3, 4, 5, 6]) : parseDays(input, daySpec);
    return { text: parts.join(' '), days, startMinute, endMinute, zone };
}
/** The local weekday (0 = Sunday) and minute of the day at `nowMs` in `zone`. */
export function localDayAndMinute(zone, nowMs) {
    const parts = formatterFor(zone).formatToParts(new Date(nowMs));
    const get = (type) => parts.find((p) => p.type === type)?.value ?? '';
    const day = DAY_NAMES.indexOf(get('weekday'));
    const minute = Number(get('hour')) * 60 + Number(get('minute'));
    if (day === -1 || !Number.isFinite(minute)) {
        // Never expected from Intl; refusing is the safe answer for a guardrail.
        throw new SikkerKeyError('SK_ERR_INTERNAL', `cannot compute the local time in ${zone}`);
    }
    return { day, minute };
}
export function isInsideWindow(w, nowMs) {
    const { day, minute } = localDayAndMinute(w.zone, nowMs);
    if (w.startMinute < w.endMinute)
        return w.days.has(day) && minute >= w.startMinute && minute < w.endMinute;
    // Crosses midnight: the late part belongs to today, the early part to the day before.
    if (minute >= w.startMinute)
        return w.days.has(day);
    if (minute < w.endMinute)
        return w.days.has((day + 6) % 7);
    return false;
}
//# sourceMappingURL=machine-time-window.js.map