// pure-rand publishes its entry points through package.json "exports", which TypeScript's
// `moduleResolution: node` (this repo's setting) does not read; map them to their typings.
declare module 'pure-rand/generator/xoroshiro128plus' {
    export * from 'pure-rand/lib/generator/xoroshiro128plus';
}
declare module 'pure-rand/distribution/uniformFloat64' {
    export * from 'pure-rand/lib/distribution/uniformFloat64';
}
declare module 'pure-rand/distribution/uniformInt' {
    export * from 'pure-rand/lib/distribution/uniformInt';
}
