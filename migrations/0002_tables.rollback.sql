-- Undoes 0002: drops the domain schemas with their tables and types (reverse order of
-- dependency; everything inside them was created by 0002).
DROP SCHEMA growth CASCADE;
DROP SCHEMA cx CASCADE;
DROP SCHEMA inventory CASCADE;
DROP SCHEMA approvals CASCADE;
DROP SCHEMA app CASCADE;
