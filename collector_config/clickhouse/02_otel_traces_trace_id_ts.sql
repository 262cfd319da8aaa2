-- TraceId -> [Start, End] lookup table, as the contrib exporter creates it
-- (internal/sqltemplates/traces_id_ts_lookup_table.sql). Query with min(Start)/max(End).
CREATE TABLE IF NOT EXISTS `{{database}}`.`{{table}}_trace_id_ts` {{on_cluster}} (
    TraceId String CODEC(ZSTD(1)),
    Start SimpleAggregateFunction(min, DateTime) CODEC(ZSTD(1)),
    End SimpleAggregateFunction(max, DateTime) CODEC(ZSTD(1))
) ENGINE = {{engine}}
PARTITION BY toStartOfWeek(Start)
ORDER BY (TraceId)
{{ttl toDateTime(Start)}}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1
