-- arc_ui_actions: one row per UI-action span (SpanName LIKE 'ui.%'), with the arc.vision.*
-- attributes cast from the exporter's strings: floats, booleans, and JSON arrays
-- (bbox/viewport as numbers, tools as strings). Absent attributes read as NULL, '' or [].
CREATE OR REPLACE VIEW `{{database}}`.`arc_ui_actions` {{on_cluster}} AS
SELECT
    Timestamp AS time,
    ServiceName AS service,
    SpanName AS span_name,
    if(SpanAttributes['arc.vision.action'] != '',
       SpanAttributes['arc.vision.action'], substring(SpanName, 4)) AS action,
    SpanAttributes['arc.vision.framework'] AS framework,
    SpanAttributes['arc.vision.selector'] AS selector,
    SpanAttributes['arc.vision.healed_selector'] AS healed_selector,
    SpanAttributes['arc.vision.url'] AS url,
    SpanAttributes['arc.vision.privacy_tier'] AS privacy_tier,
    toFloat64OrNull(SpanAttributes['arc.vision.confidence_before']) AS confidence_before,
    toFloat64OrNull(SpanAttributes['arc.vision.confidence_after']) AS confidence_after,
    JSONExtract(SpanAttributes['arc.vision.bbox'], 'Array(Float64)') AS bbox,
    JSONExtract(SpanAttributes['arc.vision.viewport'], 'Array(Float64)') AS viewport,
    JSONExtract(SpanAttributes['arc.vision.tools'], 'Array(String)') AS tools,
    if(mapContains(SpanAttributes, 'arc.vision.success'),
       CAST(SpanAttributes['arc.vision.success'] = 'true', 'Bool'), NULL) AS success,
    CAST(SpanAttributes['arc.vision.healed'] = 'true', 'Bool') AS healed,
    SpanAttributes['arc.vision.heal_strategy'] AS heal_strategy,
    toFloat64OrNull(SpanAttributes['arc.vision.heal_score']) AS heal_score,
    if(mapContains(SpanAttributes, 'arc.vision.element_visible'),
       CAST(SpanAttributes['arc.vision.element_visible'] = 'true', 'Bool'), NULL) AS element_visible,
    toFloat64OrNull(SpanAttributes['arc.vision.pre_action_ms']) AS pre_action_ms,
    toFloat64OrNull(SpanAttributes['arc.vision.tool_ms']) AS tool_ms,
    toFloat64OrNull(SpanAttributes['arc.vision.inference_ms']) AS inference_ms,
    SpanAttributes['arc.vision.model_version'] AS model_version,
    SpanAttributes['arc.vision.policy_version'] AS policy_version,
    SpanAttributes['arc.vision.page_phash'] AS page_phash,
    SpanAttributes['arc.vision.element_phash'] AS element_phash,
    SpanAttributes['arc.vision.blob_key'] AS blob_key,
    SpanAttributes['arc.vision.page_blob_key'] AS page_blob_key,
    Duration AS duration_ns,
    Duration / 1e6 AS duration_ms,
    SpanAttributes['error.type'] AS error_type,
    StatusCode AS status_code,
    TraceId AS trace_id,
    SpanId AS span_id
FROM `{{database}}`.`{{table}}`
WHERE SpanName LIKE 'ui.%'
