-- The write path of job rows: a learning job sends one `arc.training_job` span per state change to
-- the collector over OTLP (authenticated like every span: token/TLS, see SECURITY.md), and this view
-- turns it into an `arc_training_jobs` row. No new port, no write access to the query endpoint, and
-- the same DDL works on a ClickHouse server filled by otelcol-contrib.
-- Attributes: arc.job.id, arc.job.kind, arc.job.status, arc.job.started_ms / arc.job.finished_ms
-- (Unix milliseconds; finished absent while running), arc.job.metrics (JSON text), arc.job.artifact.
CREATE MATERIALIZED VIEW IF NOT EXISTS `{{database}}`.`arc_training_jobs_mv` {{on_cluster}}
TO `{{database}}`.`arc_training_jobs`
AS SELECT
    SpanAttributes['arc.job.id'] AS id,
    SpanAttributes['arc.job.kind'] AS kind,
    SpanAttributes['arc.job.status'] AS status,
    fromUnixTimestamp64Milli(toInt64OrZero(SpanAttributes['arc.job.started_ms'])) AS started,
    if(SpanAttributes['arc.job.finished_ms'] = '', NULL,
       fromUnixTimestamp64Milli(toInt64OrZero(SpanAttributes['arc.job.finished_ms']))) AS finished,
    SpanAttributes['arc.job.metrics'] AS metrics,
    SpanAttributes['arc.job.artifact'] AS artifact,
    toDateTime64(Timestamp, 3) AS updated
FROM `{{database}}`.`{{table}}`
WHERE SpanName = 'arc.training_job' AND SpanAttributes['arc.job.id'] != ''
