import assert from 'node:assert/strict';
import { encodeMultiValue, isEncodableValue } from '../../src/mediawiki/multi-value';
import { decodeMultiValue } from '../fakes/mediawiki-server';

describe('mediawiki: multi-value parameters', () => {
    const cases: Array<[string, string[], string]> = [
        ['plain values joined with |', ['a', 'b'], 'a|b'],
        ['one value', ['abc'], 'abc'],
        ['\\x1f form when a value contains |', ['a|b', 'c'], '\x1fa|b\x1fc'],
        ['\\x1f form for a single value with |', ['x|y'], '\x1fx|y']
    ];
    for (const [name, values, wire] of cases) {
        it(`encodes ${name}, and the fake wiki decodes it back`, () => {
            assert.equal(encodeMultiValue(values), wire);
            assert.deepEqual(decodeMultiValue(wire), values);
        });
    }

    it('refuses only what cannot be encoded: the empty string and \\x1f', () => {
        assert.equal(isEncodableValue('tok'), true);
        assert.equal(isEncodableValue('a|b'), true);
        assert.equal(isEncodableValue(''), false);
        assert.equal(isEncodableValue('a\x1fb'), false);
    });
});
