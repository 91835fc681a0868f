/** A wrong config value. The message always names the key, so an operator can fix it. */
export class ConfigError extends Error {
    constructor(readonly key: string, problem: string) {
        super(`config: ${key}: ${problem}`);
        this.name = 'ConfigError';
    }
}
