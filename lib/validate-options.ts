// Start-up option checking: joi validation turned into errors that name the option and never echo values.

import type Joi from 'joi';
import { KhaltiError } from './errors';

/**
 * Validate `options` against `schema` and merge `defaults` under it. Undefined keys are dropped and
 * the caller's object is never mutated. Throws `KhaltiError('invalid_option')` naming the first bad
 * option; the message is written here (joi's would quote the rejected value, which may be a secret).
 */
export function validateOptions<T>(
  schema: Joi.ObjectSchema,
  options: unknown,
  defaults: Partial<T>,
  hints: Readonly<Record<string, string>> = {},
): T {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new KhaltiError('invalid_option', { message: 'khalti-express: options must be an object.' });
  }
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const { error, value } = schema.validate(defined, { abortEarly: true, convert: false });
  if (error) throw scrubbed(startupError(error, schema, hints), (defined as { secretKey?: unknown }).secretKey);
  return { ...defaults, ...(value as T) };
}

/**
 * A start-up error never carries the secret key, even where it echoes what the caller wrote: an option
 * *named* like the key (`{ [secretKey]: 1 }`) is still named, with the key's text replaced.
 */
function scrubbed(error: KhaltiError, secretKey: unknown): KhaltiError {
  if (typeof secretKey !== 'string' || secretKey === '' || !error.message.includes(secretKey)) return error;
  return new KhaltiError(error.code, { message: error.message.split(secretKey).join('[redacted]') });
}

function startupError(error: Joi.ValidationError, schema: Joi.ObjectSchema, hints: Readonly<Record<string, string>>): KhaltiError {
  const detail = error.details[0];
  const name = detail?.path.map(String).join('.') || detail?.context?.key || 'options';
  if (detail?.type === 'object.unknown') {
    return new KhaltiError('invalid_option', { message: unknownOptionMessage(name, Object.keys(schema.describe().keys ?? {})) });
  }
  const topLevel = String(detail?.path[0] ?? name);
  const hint = hints[topLevel] ?? 'has an invalid value';
  const verb = detail?.type === 'any.required' ? 'is required' : 'is invalid';
  return new KhaltiError('invalid_option', { message: `khalti-express: option \`${name}\` ${verb}: ${hint}.` });
}

function unknownOptionMessage(name: string, known: string[]): string {
  const suggestion = known.find((candidate) => isNear(candidate, name));
  const fix = suggestion ? ` Did you mean \`${suggestion}\`?` : ` Known options: ${known.join(', ')}.`;
  return `khalti-express: unknown option \`${name}\`.${fix}`;
}

/** Same letters ignoring case, or at most two edits apart. */
function isNear(a: string, b: string): boolean {
  if (a.toLowerCase() === b.toLowerCase()) return true;
  return editDistance(a.toLowerCase(), b.toLowerCase()) <= 2;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
