//! Index advice (DESIGN §8): candidates, HypoPG what-if, workload-wide selection, verification by real builds in rolled-back transactions, migration output.
