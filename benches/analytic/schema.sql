-- A TPC-H-like star for pgperf's analytic benchmark (benches/analytic_advise.rs) and the
-- no-harm test: eight tables, primary keys only, so advise has every decision to make.
-- The workload runs as the plain role `analytic` (no row level security).

DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'analytic') THEN
    CREATE ROLE analytic NOLOGIN;
  END IF;
END $$;

CREATE TABLE region (
  r_regionkey int PRIMARY KEY,
  r_name text NOT NULL
);

CREATE TABLE nation (
  n_nationkey int PRIMARY KEY,
  n_name text NOT NULL,
  n_regionkey int NOT NULL
);

CREATE TABLE supplier (
  s_suppkey int PRIMARY KEY,
  s_name text NOT NULL,
  s_nationkey int NOT NULL,
  s_acctbal numeric(12, 2) NOT NULL
);

CREATE TABLE customer (
  c_custkey int PRIMARY KEY,
  c_name text NOT NULL,
  c_nationkey int NOT NULL,
  c_phone text NOT NULL,
  c_mktsegment text NOT NULL,
  c_acctbal numeric(12, 2) NOT NULL
);

CREATE TABLE part (
  p_partkey int PRIMARY KEY,
  p_name text NOT NULL,
  p_brand text NOT NULL,
  p_type text NOT NULL,
  p_size int NOT NULL,
  p_container text NOT NULL,
  p_retailprice numeric(12, 2) NOT NULL
);

CREATE TABLE partsupp (
  ps_partkey int NOT NULL,
  ps_suppkey int NOT NULL,
  ps_availqty int NOT NULL,
  ps_supplycost numeric(12, 2) NOT NULL,
  PRIMARY KEY (ps_partkey, ps_suppkey)
);

CREATE TABLE orders (
  o_orderkey int PRIMARY KEY,
  o_custkey int NOT NULL,
  o_orderstatus char(1) NOT NULL,
  o_totalprice numeric(12, 2) NOT NULL,
  o_orderdate date NOT NULL,
  o_orderpriority text NOT NULL
);

CREATE TABLE lineitem (
  l_orderkey int NOT NULL,
  l_linenumber int NOT NULL,
  l_partkey int NOT NULL,
  l_suppkey int NOT NULL,
  l_quantity numeric(12, 2) NOT NULL,
  l_extendedprice numeric(12, 2) NOT NULL,
  l_discount numeric(12, 2) NOT NULL,
  l_tax numeric(12, 2) NOT NULL,
  l_returnflag char(1) NOT NULL,
  l_linestatus char(1) NOT NULL,
  l_shipdate date NOT NULL,
  l_commitdate date NOT NULL,
  l_receiptdate date NOT NULL,
  l_shipmode text NOT NULL,
  PRIMARY KEY (l_orderkey, l_linenumber)
);

GRANT SELECT ON region, nation, supplier, customer, part, partsupp, orders, lineitem TO analytic;
