// ESLint: recommended rules plus typescript-eslint's type-aware checks on lib/ and __tests__/.
// Formatting is Prettier's (`npm run lint` checks both).
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

module.exports = tseslint.config(
  { ignores: ['dist/', 'coverage/', 'node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { project: './tsconfig.json', tsconfigRootDir: __dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-console': 'off',
    },
  },
  {
    // Prettier formats at 140 columns but leaves long strings alone: keep those readable too. HTML and
    // CSS in template literals (the sandbox's pages) may run longer.
    files: ['lib/**/*.ts', '__tests__/**/*.ts', 'example-app/**/*.js'],
    rules: { 'max-len': ['error', { code: 160, ignoreTemplateLiterals: true, ignoreUrls: true, ignoreRegExpLiterals: true }] },
  },
  {
    // Express is imported as a value only by the HTTP layers (the verifier's, the admin's) and the composition
    // root; everything below them is framework-free (the public types name express's Request type only).
    files: ['lib/**/*.ts'],
    ignores: ['lib/http/**', 'lib/admin/**', 'lib/verifier.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'express', message: 'Only lib/http/**, lib/admin/** and lib/verifier.ts may import express.', allowTypeImports: true },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        module: 'writable',
        require: 'readonly',
        __dirname: 'readonly',
        process: 'readonly',
        console: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setTimeout: 'readonly',
        URL: 'readonly',
        performance: 'readonly',
        fetch: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
