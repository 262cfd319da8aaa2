-- Database for the trace tables. The double-brace placeholders are filled by
-- arc_agent/collector/schema.py, or by hand / sed for clickhouse-client (see ../README.md).
CREATE DATABASE IF NOT EXISTS `{{database}}` {{on_cluster}}
