// PostgresStore's batched statements (batcher.ts groups the calls): functions over arrays, created with
// the schema, one round trip and one commit for many claims or transitions.

import { COLUMNS, INTEGER_COLUMNS } from './rows';

/** The arrays of `key` over `inputs`: one statement parameter. */
export const column = <T, K extends keyof T>(inputs: readonly T[], key: K): Array<T[K]> => inputs.map((input) => input[key]);

/**
 * The batched transitions, as functions created with the schema: each row updated alone through the
 * primary key, with the same guard as the single statement (held by `owner`, in the expected state),
 * answering the 1-based indexes of the rows it changed. PostgreSQL keeps each connection's plan, and a
 * plan made while the table is new has no statistics to go by: one `UPDATE … FROM unnest(…)` was then
 * planned over the partial state indexes, and even `token = $1 AND state = 'claimed'` over the listing
 * index (state first), each reading every entry of that state, dead ones included, so each batch cost
 * more as the table grew. The state is therefore compared with `IS NOT DISTINCT FROM` (the same test on a
 * NOT NULL column), which no index serves: the primary key is the only way to the row.
 */
export function verifyManyFunction(table: string, name: string): string {
  return `CREATE OR REPLACE FUNCTION ${name}(p_tokens text[], p_owners text[], p_transaction_ids text[], p_khaltis text[],
    p_nows bigint[]) RETURNS SETOF integer LANGUAGE plpgsql AS $fn$
DECLARE
  i integer;
BEGIN
  FOR i IN 1 .. coalesce(array_length(p_tokens, 1), 0) LOOP
    UPDATE ${table} SET state = 'verified', transaction_id = p_transaction_ids[i], khalti = p_khaltis[i], updated_at = p_nows[i]
      WHERE token = p_tokens[i] AND owner = p_owners[i] AND state IS NOT DISTINCT FROM 'claimed';
    IF FOUND THEN RETURN NEXT i; END IF;
  END LOOP;
END $fn$;`;
}

/** The batched `fulfilled` transition (see verifyManyFunction): held, still `verified`; ends the lease. */
export function fulfilManyFunction(table: string, name: string): string {
  return `CREATE OR REPLACE FUNCTION ${name}(p_tokens text[], p_owners text[], p_responses text[], p_nows bigint[])
    RETURNS SETOF integer LANGUAGE plpgsql AS $fn$
DECLARE
  i integer;
BEGIN
  FOR i IN 1 .. coalesce(array_length(p_tokens, 1), 0) LOOP
    UPDATE ${table} SET state = 'fulfilled', response = p_responses[i], owner = NULL, lease_until = 0, updated_at = p_nows[i]
      WHERE token = p_tokens[i] AND owner = p_owners[i] AND state IS NOT DISTINCT FROM 'verified';
    IF FOUND THEN RETURN NEXT i; END IF;
  END LOOP;
END $fn$;`;
}

/** The columns a claim function returns: each column's name with an `o_` prefix, declared with its type. */
export const claimResultColumns = (): string =>
  COLUMNS.map((column) => `o_${column} ${INTEGER_COLUMNS.has(column) ? 'bigint' : 'text'}`).join(', ');

/**
 * Several claims in one transaction: each as the single claim function does it, in order of order id
 * (every batch takes the order locks in the same order, so two batches cannot deadlock on them), each
 * claim's rows returned with its index `o_i` (1-based). A later claim sees what an earlier one of the
 * same batch inserted.
 */
export function claimManyFunction(table: string, name: string, lockPrefix: string): string {
  const columns = COLUMNS.join(', ');
  return `CREATE OR REPLACE FUNCTION ${name}(p_tokens text[], p_order_ids text[], p_amounts bigint[], p_owners text[],
    p_lease_untils bigint[], p_nows bigint[]) RETURNS TABLE (o_i integer, ${claimResultColumns()}) LANGUAGE plpgsql AS $fn$
DECLARE
  i integer;
  v_found boolean;
BEGIN
  FOR i IN SELECT s.i FROM generate_subscripts(p_tokens, 1) AS s(i) ORDER BY p_order_ids[s.i] COLLATE "C", s.i LOOP
    PERFORM pg_advisory_xact_lock(hashtextextended('${lockPrefix}' || p_order_ids[i], 0));
    RETURN QUERY SELECT i, ${columns} FROM ${table} WHERE token = p_tokens[i];
    v_found := FOUND;
    RETURN QUERY SELECT i, ${columns} FROM ${table} WHERE order_id = p_order_ids[i] AND token <> p_tokens[i];
    CONTINUE WHEN v_found OR FOUND;
    INSERT INTO ${table} (token, order_id, amount, state, owner, lease_until, created_at, updated_at)
      VALUES (p_tokens[i], p_order_ids[i], p_amounts[i], 'claimed', p_owners[i], p_lease_untils[i], p_nows[i], p_nows[i])
      ON CONFLICT (token) DO NOTHING;
    IF NOT FOUND THEN
      RETURN QUERY SELECT i, ${columns} FROM ${table} WHERE token = p_tokens[i];
    END IF;
  END LOOP;
END $fn$;`;
}
