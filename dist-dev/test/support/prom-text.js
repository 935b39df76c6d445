const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
/** Go's strconv.ParseFloat, which Prometheus uses: NaN and Inf in any case (prom-client writes "Nan"). */
function parseValue(text, line) {
    if (/^nan$/i.test(text))
        return Number.NaN;
    if (/^\+?inf(inity)?$/i.test(text))
        return Number.POSITIVE_INFINITY;
    if (/^-inf(inity)?$/i.test(text))
        return Number.NEGATIVE_INFINITY;
    if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text))
        throw new Error(`line ${line}: ${JSON.stringify(text)} is not a sample value`);
    return Number(text);
}
/** The family a sample name belongs to, given the declared types. */
function familyOf(name, families) {
    for (const suffix of ['_bucket', '_sum', '_count']) {
        if (name.endsWith(suffix)) {
            const base = name.slice(0, -suffix.length);
            const t = families.get(base)?.type;
            if (t === 'histogram' || (t === 'summary' && suffix !== '_bucket'))
                return base;
        }
    }
    return name;
}
function parseLabels(text, line) {
    const labels = {};
    let i = 1; // after '{'
    for (;;) {
        while (text[i] === ' ')
            i++;
        if (text[i] === '}')
            return { labels, rest: text.slice(i + 1) };
        const eq = text.indexOf('=', i);
        if (eq < 0)
            throw new Error(`line ${line}: label without '='`);
        const name = text.slice(i, eq).trim();
        if (!LABEL.test(name))
            throw new Error(`line ${line}: bad label name ${JSON.stringify(name)}`);
        if (name in labels)
            throw new Error(`line ${line}: label ${name} twice`);
        if (text[eq + 1] !== '"')
            throw new Error(`line ${line}: label value of ${name} is not quoted`);
        let j = eq + 2;
        let value = '';
        for (;;) {
            const c = text[j];
            if (c === undefined)
                throw new Error(`line ${line}: unterminated label value`);
            if (c === '"')
                break;
            if (c === '\\') {
                const n = text[j + 1];
                if (n === '\\')
                    value += '\\';
                else if (n === '"')
                    value += '"';
                else if (n === 'n')
                    value += '\n';
                else
                    throw new Error(`line ${line}: bad escape \\${n ?? ''} in a label value`);
                j += 2;
                continue;
            }
            value += c;
            j++;
        }
        labels[name] = value;
        i = j + 1;
        if (text[i] === ',')
            i++;
        else if (text[i] !== '}')
            throw new Error(`line ${line}: expected ',' or '}' after label ${name}`);
    }
}
export function parsePrometheusText(text, opts = {}) {
    const strict = opts.strict ?? true;
    const families = new Map();
    const sampled = new Set();
    const typed = new Set();
    const lines = text.split('\n');
    if (lines.at(-1) !== '')
        throw new Error('the exposition must end with a newline');
    lines.forEach((raw, index) => {
        const line = index + 1;
        if (raw.trim() === '')
            return;
        if (raw.startsWith('#')) {
            const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(raw);
            if (!m)
                return; // an ordinary comment
            const [, kind, name, rest] = m;
            if (!NAME.test(name))
                throw new Error(`line ${line}: bad metric name ${JSON.stringify(name)}`);
            const fam = families.get(name) ?? { name, type: 'untyped', help: undefined, samples: [] };
            families.set(name, fam);
            if (kind === 'TYPE') {
                if (!TYPES.has(rest ?? ''))
                    throw new Error(`line ${line}: unknown type ${JSON.stringify(rest)}`);
                if (sampled.has(name))
                    throw new Error(`line ${line}: TYPE of ${name} after its samples`);
                if (typed.has(name))
                    throw new Error(`line ${line}: TYPE of ${name} twice`);
                typed.add(name);
                fam.type = rest;
            }
            else {
                if (fam.help !== undefined)
                    throw new Error(`line ${line}: HELP of ${name} twice`);
                fam.help = rest ?? '';
            }
            return;
        }
        const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(raw);
        if (!nameMatch)
            throw new Error(`line ${line}: not a sample: ${JSON.stringify(raw.slice(0, 80))}`);
        const name = nameMatch[0];
        let rest = raw.slice(name.length);
        let labels = {};
        if (rest.startsWith('{'))
            ({ labels, rest } = parseLabels(rest, line));
        const parts = rest.trim().split(/\s+/);
        if (!rest.startsWith(' ') || parts.length < 1 || parts.length > 2)
            throw new Error(`line ${line}: expected "value [timestamp]" after ${name}`);
        const value = parseValue(parts[0], line);
        if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1]))
            throw new Error(`line ${line}: bad timestamp`);
        const familyName = familyOf(name, families);
        let fam = families.get(familyName);
        if (fam === undefined) {
            if (strict)
                throw new Error(`line ${line}: sample ${name} of a family without TYPE`);
            fam = { name: familyName, type: 'untyped', help: undefined, samples: [] };
            families.set(familyName, fam);
        }
        sampled.add(familyName);
        fam.samples.push({ name, labels, value });
    });
    for (const fam of families.values()) {
        if (fam.type !== 'histogram')
            continue;
        // Group buckets by their labels other than le; each group is cumulative and ends at +Inf = _count.
        const groups = new Map();
        for (const s of fam.samples.filter((x) => x.name === `${fam.name}_bucket`)) {
            const { le, ...others } = s.labels;
            if (le === undefined)
                throw new Error(`${fam.name}_bucket without le`);
            const key = JSON.stringify(others);
            groups.set(key, [...(groups.get(key) ?? []), { le: parseValue(le, 0), value: s.value }]);
        }
        for (const [key, buckets] of groups) {
            let previous = -1;
            for (const b of [...buckets].sort((x, y) => x.le - y.le)) {
                if (b.value < previous)
                    throw new Error(`${fam.name}${key}: buckets are not cumulative`);
                previous = b.value;
            }
            const inf = buckets.find((b) => b.le === Number.POSITIVE_INFINITY);
            const count = fam.samples.find((x) => x.name === `${fam.name}_count` && JSON.stringify(x.labels) === key);
            if (inf === undefined || count === undefined || inf.value !== count.value)
                throw new Error(`${fam.name}${key}: the +Inf bucket does not equal _count`);
        }
    }
    return families;
}
//# sourceMappingURL=prom-text.js.map