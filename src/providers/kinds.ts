import { ProviderKind } from '../push/provider';
import { apnsKind } from './apns/apns-kind';
import { fcmKind } from './fcm/fcm-kind';
import { webpushKind } from './webpush/webpush-kind';
import { KindModule } from './kind-module';

/** Every provider kind this build knows, by name (the `kind:` of a `providers:` entry). */
export const KIND_MODULES: { readonly [K in ProviderKind]?: KindModule<K> } = {
    apns: apnsKind,
    fcm: fcmKind,
    webpush: webpushKind
};
