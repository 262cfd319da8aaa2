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
    toFloat64OrNull(SpanAttributes['arc.vision.tool_ms']) AS tool_ms,
    toFloat64OrNull(SpanAttributes['arc.vision.inference_ms']) AS inference_ms,
    Duration AS duration_ns,
    Duration / 1e6 AS duration_ms,
    SpanAttributes['error.type'] AS error_type,
    StatusCode AS status_code,
    TraceId AS trace_id,
    SpanId AS span_id
FROM `{{database}}`.`{{table}}`
WHERE SpanName LIKE 'ui.%'
