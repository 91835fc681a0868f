/**
 * The slice of service-runner's bunyan logger the service uses. Levels are written
 * 'level/component' (e.g. 'warn/apns'), as service-runner expects.
 */
export interface Logger {
    log(levelPath: string, msg: string | Record<string, unknown> | Error): void;
    child(args: Record<string, unknown>): Logger;
}
