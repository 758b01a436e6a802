//! Recording a workload from a live database's pg_stat_statements or its logs.
