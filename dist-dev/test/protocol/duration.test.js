// The one duration syntax (protocol/duration.ts): every flag and setting that takes a duration
// accepts exactly `90` (seconds), `90s`, `10m`, `2h`, `30d` and `500ms`, and refuses anything else
// with a message naming the flag and the accepted forms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DURATION_FORMS, parseDuration } from '../../protocol/duration.js';
import { isSikkerKeyError } from '../../protocol/errors.js';
import { parseSince } from '../../vault-server/cli/cli-format.js';
import { loadAgentConfig } from '../../agent/config.js';
const ACCEPTED = [
    ['90', 90_000], ['0', 0], ['90s', 90_000], ['10m', 600_000], ['2h', 7_200_000], ['30d', 2_592_000_000], ['500ms', 500],
    ['60s', 60_000], ['1s', 1000], ['007m', 420_000], ['365d', 31_536_000_000],
    // a number from a JSON or YAML file is seconds, like the bare number on a command line
    [45, 45_000], [0, 0],
];
const REFUSED = [
    '', ' ', 's', 'm', ' 10s', '10s ', '10 s', '10S', '10M', '1h30m', '90m30s', '2w', '1y', '10sec', '10min', '1.5h', '1.5', '-5s', '+5s',
    '5e3', '0x10', 'Infinity', 'NaN', '10us', '10 ', 'ten seconds', '10s10', 's10', '9999999999999999', '99999999999999d',
    1.5, -1, Number.NaN, Number.POSITIVE_INFINITY,
];
test('accepted: a whole number with ms, s, m, h or d, or a bare whole number of seconds', () => {
    for (const [text, ms] of ACCEPTED)
        assert.equal(parseDuration(text, '--timeout'), ms, JSON.stringify(text));
});
test('refused: anything else, as SK_ERR_USAGE naming the flag and the accepted forms', () => {
    for (const text of REFUSED) {
        assert.throws(() => parseDuration(text, '--grace'), (err) => {
            assert.ok(isSikkerKeyError(err, 'SK_ERR_USAGE'), `${JSON.stringify(text)}: ${String(err)}`);
            assert.ok(err.message.startsWith('--grace: '), err.message);
            assert.ok(err.message.endsWith(`use ${DURATION_FORMS}`), err.message);
            return true;
        }, JSON.stringify(text));
    }
});
test('the caller chooses the code: a setting is SK_ERR_CONFIG, a request body SK_ERR_VALIDATION', () => {
    assert.throws(() => parseDuration('1h30m', 'rotationLease', 'SK_ERR_CONFIG'), (err) => isSikkerKeyError(err, 'SK_ERR_CONFIG'));
    assert.throws(() => parseDuration('2w', 'expiresIn', 'SK_ERR_VALIDATION'), (err) => isSikkerKeyError(err, 'SK_ERR_VALIDATION'));
});
test('audit --since takes the same durations (or an ISO time)', () => {
    const now = 1_800_000_000_000;
    assert.equal(parseSince('1h', now), now - 3_600_000);
    assert.equal(parseSince('90', now), now - 90_000);
    assert.equal(parseSince('2026-01-01T00:00:00Z', now), Date.parse('2026-01-01T00:00:00Z'));
    assert.throws(() => parseSince('2w', now), (err) => isSikkerKeyError(err, 'SK_ERR_USAGE') && /--since: "2w" is not a duration/.test(err.message));
});
test('the agent\'s pollWaitSeconds is a duration of whole seconds from 1s to 60s', () => {
    const base = { SIKKERKEY_AGENT_VAULT_URL: 'https://v.example.com', SIKKERKEY_AGENT_KEY_FILE: '/k' };
    for (const [value, seconds] of [['30', 30], ['45s', 45], ['1m', 60], ['1000ms', 1000 / 1000]]) {
        assert.equal(loadAgentConfig(undefined, { ...base, SIKKERKEY_AGENT_POLL_WAIT_SECONDS: value }).pollWaitSeconds, seconds, value);
    }
    for (const value of ['0', '61', '1500ms', '2m', 'soon', '1m30s']) {
        assert.throws(() => loadAgentConfig(undefined, { ...base, SIKKERKEY_AGENT_POLL_WAIT_SECONDS: value }), (err) => isSikkerKeyError(err, 'SK_ERR_CONFIG') && /^pollWaitSeconds/.test(err.message), value);
    }
});
//# sourceMappingURL=duration.test.js.map