import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

/**
 * The layers of src/, lowest first: a folder may import from the folders before it, never
 * from those after it, so imports point one way along the path of a message (front door ->
 * message -> scheduler -> delivery -> provider -> outcome -> dead-token sinks). `push` (the
 * shared model) and `util` (shared helpers) sit below everything.
 */
const LAYERS = ['push', 'util', 'logging', 'metrics', 'config', 'egress', 'providers', 'mediawiki', 'dead-tokens',
    'delivery', 'scheduling', 'lifecycle', 'http', 'front-doors'];
const layerZones = LAYERS.map((layer, i) => ({
    target: `./src/${layer}`,
    // Above every layer: the composition root, the launcher, and the operators' commands (src/cli).
    from: LAYERS.slice(i + 1).map((above) => `./src/${above}`).concat(['./src/service.ts', './src/server.ts', './src/cli', './src/check.ts', './src/send.ts']),
    message: `${layer} is below these layers (see LAYERS in eslint.config.mjs): imports point one way`
}));

export default tseslint.config(
    // Build output and generated files (all git-ignored).
    { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.bench/**', 'bench-results/**', '.dev/**'] },
    js.configs.recommended,
    ...tseslint.configs.recommendedTypeChecked,
    {
        languageOptions: {
            globals: { ...globals.node, ...globals.mocha },
            parserOptions: { projectService: { allowDefaultProject: ['*.mjs'] }, tsconfigRootDir: import.meta.dirname }
        },
        rules: {
            '@typescript-eslint/no-floating-promises': 'error',
            // `import x = require('x')` is how CommonJS packages without ES exports are typed.
            '@typescript-eslint/no-require-imports': ['error', { allowAsImport: true }],
            '@typescript-eslint/no-misused-promises': 'error',
            '@typescript-eslint/explicit-module-boundary-types': 'off',
            '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
            'no-console': 'error',
            eqeqeq: 'error',
            curly: 'error'
        }
    },
    {
        // Imports point one way: no cycle between files, and no import from a higher layer.
        files: ['src/**/*.ts'],
        plugins: { 'import-x': importX },
        settings: {
            'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
            'import-x/extensions': ['.ts'],
            'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] }
        },
        rules: {
            'import-x/no-cycle': ['error', { ignoreExternal: true }],
            'import-x/no-restricted-paths': ['error', { zones: layerZones }]
        }
    },
    {
        // Tests, benchmarks and scripts talk to untyped JSON and fakes; keep the core strict.
        files: ['test/**', 'bench/**', 'scripts/**'],
        rules: {
            '@typescript-eslint/no-unsafe-assignment': 'off',
            '@typescript-eslint/no-unsafe-member-access': 'off',
            '@typescript-eslint/no-unsafe-argument': 'off',
            '@typescript-eslint/no-unsafe-call': 'off',
            '@typescript-eslint/no-unsafe-return': 'off',
            '@typescript-eslint/no-non-null-assertion': 'off',
            '@typescript-eslint/no-explicit-any': 'off',
            'no-console': 'off'
        }
    },
    { files: ['**/*.mjs'], ...tseslint.configs.disableTypeChecked }
);
