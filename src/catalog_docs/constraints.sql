-- Constraints of one table: primary key, unique, foreign keys, checks, by kind then name.
SELECT k.conname AS constraint_name, pg_get_constraintdef(k.oid) AS definition
FROM pg_constraint k
WHERE k.conrelid = $1::text::regclass
ORDER BY array_position(ARRAY['p', 'u', 'f', 'c', 'x']::"char"[], k.contype), k.conname
