import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

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
