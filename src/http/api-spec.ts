import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import { readFileSync } from 'node:fs';
import * as yaml from 'js-yaml';

/**
 * spec.yaml, loaded once at start-up. It is the single source of the HTTP API: request
 * validators are compiled from its schemas (never written again in code), the 404/405
 * decision uses its paths, and /?spec serves it.
 */
export interface SpecKnobs {
    readonly messageTypes: readonly string[];
    readonly maxDeviceTokens: number;
    readonly version: string;
}

type JsonObject = Record<string, unknown>;

export interface ApiSpec {
    /** The effective document (config knobs applied), as served by /?spec. */
    readonly document: JsonObject;
    /** Serialised once: /?spec is then a plain write. */
    readonly documentJson: string;
    /** Methods (upper case) the spec defines for each path. */
    readonly methodsByPath: ReadonlyMap<string, readonly string[]>;
    /** Compiled validator of a JSON request body. */
    requestValidator(path: string, method: string): ValidateFunction;
}

export function loadApiSpec(file: string, knobs: SpecKnobs): ApiSpec {
    const document = yaml.load(readFileSync(file, 'utf8')) as JsonObject;
    applyKnobs(document, knobs);

    // OpenAPI 3.0 schemas are JSON Schema plus a few annotation keywords. No `format` is used
    // (strict mode would refuse an unknown one at start-up), so ajv-formats is not needed.
    // verbose: errors carry their schema, so a pattern error can be explained with its description.
    const ajv = new Ajv({ allErrors: true, strict: true, coerceTypes: false, useDefaults: true, verbose: true });
    ajv.addVocabulary(['example', 'discriminator', 'xml', 'externalDocs', 'components']);
    ajv.addSchema({ components: document.components }, 'spec');

    const paths = document.paths as Record<string, Record<string, JsonObject>>;
    const methodsByPath = new Map<string, string[]>();
    for (const [p, ops] of Object.entries(paths)) {
        methodsByPath.set(p, Object.keys(ops).filter((m) => !m.startsWith('x-')).map((m) => m.toUpperCase()));
    }

    const cache = new Map<string, ValidateFunction>();
    return {
        document,
        documentJson: JSON.stringify(document),
        methodsByPath,
        requestValidator(path: string, method: string): ValidateFunction {
            const key = `${method} ${path}`;
            let fn = cache.get(key);
            if (!fn) {
                const op = paths[path]?.[method.toLowerCase()] as JsonObject | undefined;
                const schema = (((op?.requestBody as JsonObject | undefined)?.content as JsonObject | undefined)
                    ?.['application/json'] as JsonObject | undefined)?.schema as JsonObject | undefined;
                if (!schema) {
                    throw new Error(`spec.yaml has no application/json request body for ${key}`);
                }
                fn = ajv.compile(rebase(schema) as object);
                cache.set(key, fn);
            }
            return fn;
        }
    };
}

/** Local $refs ('#/components/...') point into the 'spec' schema registered above. */
function rebase(schema: unknown): unknown {
    if (Array.isArray(schema)) {
        return schema.map(rebase);
    }
    if (schema && typeof schema === 'object') {
        const out: JsonObject = {};
        for (const [k, v] of Object.entries(schema)) {
            out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `spec${v}` : rebase(v);
        }
        return out;
    }
    return schema;
}

function applyKnobs(document: JsonObject, knobs: SpecKnobs): void {
    const schemas = (document.components as JsonObject).schemas as Record<string, JsonObject>;
    // Echo's request schemas: messageRequest (FCM, APNs) and webPushMessageRequest.
    for (const name of ['messageRequest', 'webPushMessageRequest']) {
        const props = schemas[name]?.properties as Record<string, JsonObject> | undefined;
        if (!props) {
            continue;
        }
        props.messageType.enum = [...knobs.messageTypes];
        props.messageType.example = knobs.messageTypes[0];
        props.deviceTokens.maxItems = knobs.maxDeviceTokens;
    }
    (document.info as JsonObject).version = knobs.version;
}

/**
 * At most this many validation errors are described. ajv (allErrors) reports one error per
 * bad array item, and a 100 kB body can hold 50 000 of them: describing (and de-duplicating)
 * them all took the event loop for seconds per request. The first few are what a client
 * developer needs anyway.
 */
export const MAX_DESCRIBED_ERRORS = 10;

/** ajv errors in words a client developer can act on, e.g. "deviceTokens[0]: must be a string". */
export function describeValidationErrors(errors: readonly ErrorObject[]): string[] {
    const out = new Set<string>();
    for (const e of errors) {
        if (out.size === MAX_DESCRIBED_ERRORS) {
            out.add(`... and more (${errors.length} problems in all)`);
            break;
        }
        out.add(`${where(e)}: ${what(e)}`);
    }
    return [...out];
}

function where(e: ErrorObject): string {
    return e.instancePath
        ? e.instancePath.slice(1).split('/').map((seg, i) => (/^\d+$/.test(seg) ? `[${seg}]` : (i ? `.${seg}` : seg))).join('')
        : 'body';
}

function what(e: ErrorObject): string {
    switch (e.keyword) {
        case 'required':
            return `missing required property '${(e.params as { missingProperty: string }).missingProperty}'`;
        case 'additionalProperties':
            return `unknown property '${clip((e.params as { additionalProperty: string }).additionalProperty)}'`;
        case 'enum':
            return `must be one of: ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
        case 'type':
            return `must be ${article((e.params as { type: string }).type)}`;
        case 'minItems':
            return `must contain at least ${(e.params as { limit: number }).limit} item(s)`;
        case 'maxItems':
            return `must contain at most ${(e.params as { limit: number }).limit} items`;
        case 'pattern': {
            // The schema's description says in words what the pattern means.
            const described = (e.parentSchema as { description?: unknown } | undefined)?.description;
            return typeof described === 'string' ? `must be ${described}` : 'contains characters that are not allowed';
        }
        default:
            return e.message ?? 'is invalid';
    }
}

/** Property names come from the client; echo only the start of a long one. */
function clip(name: string): string {
    return name.length > 64 ? `${name.slice(0, 64)}...` : name;
}

function article(type: string): string {
    return type === 'object' || type === 'array' || type === 'integer' ? `an ${type}` : `a ${type}`;
}
