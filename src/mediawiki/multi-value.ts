/** The separator MediaWiki accepts for multi-value parameters whose values contain '|'. */
const UNIT_SEPARATOR = '\x1f';

/**
 * Encodes a multi-value parameter: 'a|b|c', or '\x1fa\x1fb|c' when a value contains '|'
 * (the leading \x1f tells the API which separator is used).
 */
export function encodeMultiValue(values: readonly string[]): string {
    if (values.some((v) => v.includes('|'))) {
        return UNIT_SEPARATOR + values.join(UNIT_SEPARATOR);
    }
    return values.join('|');
}

/** Whether a value can be sent in a multi-value parameter at all. */
export function isEncodableValue(value: string): boolean {
    return value.length > 0 && !value.includes(UNIT_SEPARATOR);
}
