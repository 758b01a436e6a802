//! Applying, reverting and verifying migrations; writing migration files.
