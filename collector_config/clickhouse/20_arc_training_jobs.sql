-- arc_training_jobs: one row per state change of a learning job (`arc learn patterns`,
-- `arc train ui-policy`): a job inserts a row when it starts (status 'running') and one when it
-- ends ('succeeded' | 'failed'), so inserts stay append-only on any MergeTree engine. The current
-- state of a job is its row with the greatest `updated`:
--   SELECT id, argMax(status, updated) AS status, argMax(metrics, updated) AS metrics, ...
--   FROM arc_training_jobs GROUP BY id
-- `metrics` is a JSON object as text; `artifact` names what the job published
-- (e.g. `patterns/llm-fixes@3` in the registry) or is ''.
CREATE TABLE IF NOT EXISTS `{{database}}`.`arc_training_jobs` {{on_cluster}} (
    id String,
    kind LowCardinality(String),
    status LowCardinality(String),
    started DateTime64(3),
    finished Nullable(DateTime64(3)),
    metrics String,
    artifact String,
    updated DateTime64(3) DEFAULT now64(3)
) ENGINE = {{engine}}
ORDER BY (kind, id, updated)
