import type { Server } from 'node:net';

/**
 * Takes a fake's server down and brings it back on the same port, as a provider endpoint
 * restarting would: `dropConnections` destroys what is open (server.close() alone leaves open
 * sessions alive), the port refuses connections for `downMs`, then the server listens again.
 */
export async function restartServer(server: Server, port: number, host: string, dropConnections: () => void,
    downMs = 0): Promise<void> {
    dropConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (downMs > 0) {
        await new Promise((resolve) => setTimeout(resolve, downMs));
    }
    await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
            server.off('error', reject);
            resolve();
        });
    });
}
