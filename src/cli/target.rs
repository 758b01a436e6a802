//! The database a command works on: the user's (`--db` / `DATABASE_URL`) or the embedded
//! default, migrated and seeded. Defined once and flattened into every command.
