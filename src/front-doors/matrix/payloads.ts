import type { MatrixApp } from './apps-config';
import type { DeviceDispatch } from './dispatch';
import type { MatrixDevice, MatrixNotification } from './notification';
import { buildApnsDispatch } from './payload-apns';
import { buildFcmDispatch } from './payload-fcm';
import { buildWebPushDispatch } from './payload-webpush';

export type { DeviceDispatch, RejectReason, SkipReason } from './dispatch';
export { MATRIX_MESSAGE_TYPE } from './dispatch';
export { apnsDeviceToken, alertFor, buildApnsDispatch } from './payload-apns';
export { buildFcmDispatch } from './payload-fcm';
export { buildWebPushDispatch, roomTopic, webPushSubscription } from './payload-webpush';

/**
 * One device of a notification, for its app: the message and token to send, or why nothing
 * is sent, or why Sygnal would reject the pushkey. Pure: no I/O, no clock.
 */
export function buildDeviceDispatch(n: MatrixNotification, device: MatrixDevice, app: MatrixApp): DeviceDispatch {
    switch (app.kind) {
        case 'apns':
            return buildApnsDispatch(n, device, app.payload);
        case 'fcm':
            return buildFcmDispatch(n, device, app.payload);
        case 'webpush':
            return buildWebPushDispatch(n, device, app.payload);
    }
}
