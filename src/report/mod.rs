//! The HTML report (DESIGN §10): renders model types only, never touches a database.
