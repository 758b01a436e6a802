//! The deterministic data generator for the bundled control-center schema.
