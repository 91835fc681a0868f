import assert from 'node:assert/strict';
import { codePointLength, globToRegExp, isGlob, pyJsonBytes, sliceCodePoints, truncateUtf8 } from '../../../src/front-doors/matrix/text';

describe('Matrix text rules (Python semantics)', () => {
    it('sliceCodePoints is Python s[0:n]: astral characters count once and are never split', () => {
        assert.equal(sliceCodePoints('🦉🦉🦉', 2), '🦉🦉');
        assert.equal(sliceCodePoints('a🦉b', 2), 'a🦉');
        assert.equal(sliceCodePoints('abc', 5), 'abc');
        assert.equal(sliceCodePoints('', 1), '');
        assert.equal(codePointLength('a🦉b'), 3);
        assert.equal(codePointLength('\ud800x'), 2, 'a lone surrogate is one');
    });

    it('truncateUtf8 is Sygnal\'s truncate_str', () => {
        assert.deepEqual(truncateUtf8('short', 1024), { value: 'short', truncated: false });
        assert.deepEqual(truncateUtf8('x'.repeat(1024), 1024), { value: 'x'.repeat(1024), truncated: false });
        assert.deepEqual(truncateUtf8('x'.repeat(1025), 1024), { value: `${'x'.repeat(1021)}…`, truncated: true });
        // ⚑ (3 bytes) at bytes 1020..1022: the cut at 1021 falls inside it, so it goes whole.
        const s = `${'x'.repeat(1020)}⚑${'y'.repeat(10)}`;
        assert.deepEqual(truncateUtf8(s, 1024), { value: `${'x'.repeat(1020)}…`, truncated: true });
        // A character ending exactly at the cut stays.
        const t = `${'x'.repeat(1018)}⚑${'y'.repeat(10)}`;
        assert.deepEqual(truncateUtf8(t, 1024), { value: `${'x'.repeat(1018)}⚑…`, truncated: true });
        const u = `${'x'.repeat(1019)}🦉${'y'.repeat(10)}`;
        assert.equal(truncateUtf8(u, 1024).value, `${'x'.repeat(1019)}…`);
        assert.ok(Buffer.byteLength(truncateUtf8('🦉'.repeat(400), 1024).value) <= 1024);
    });

    it('pyJsonBytes is len(json.dumps(v, ensure_ascii=False).encode()) (values checked with CPython 3.11)', () => {
        const table: [unknown, number][] = [
            [{}, 2],
            [[], 2],
            [{ a: 1, b: [1, 2, { c: null }] }, 34],
            ['é"\\\n\t\u0001🦉', 22],
            [[true, false, null, 1.5, -3], 28],
            [{ aps: { alert: { 'loc-args': ['x', 'y'] }, badge: 3 } }, 56],
            [{ 'k"': 'v\u2028' }, 15]
        ];
        for (const [v, n] of table) {
            assert.equal(pyJsonBytes(v), n, JSON.stringify(v));
        }
    });

    it('globToRegExp is matrix_common glob_to_regex', () => {
        const re = globToRegExp('com.*.app?', false);
        assert.ok(re.test('com.example.app1'));
        assert.ok(re.test('com..app1'));
        assert.ok(!re.test('com.example.app'));
        assert.ok(!re.test('COM.example.app1'));
        assert.ok(!re.test('com.a\nb.app1'), 'a wildcard does not match a newline');
        assert.ok(globToRegExp('COM.*', true).test('com.x'));
        assert.ok(globToRegExp('a??*b', false).test('axyb') && !globToRegExp('a??*b', false).test('axb'));
        assert.ok(globToRegExp('🦉?', false).test('🦉🦉'), '? is one character, not one UTF-16 unit');
        assert.ok(globToRegExp('a-b/c', false).test('a-b/c'));
        assert.ok(isGlob('a*') && isGlob('a?') && !isGlob('a.b'));
    });
});
