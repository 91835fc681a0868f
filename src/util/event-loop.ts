/**
 * Gives the event loop a turn (setImmediate): long loops over tokens call it every so often,
 * so that a big batch never stalls the HTTP API or answers waiting to be read.
 */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
