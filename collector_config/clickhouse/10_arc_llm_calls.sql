-- arc_llm_calls: one row per LLM call span (any span carrying gen_ai.operation.name), with the
-- string-typed attributes the exporter stores cast back to numbers, booleans and arrays.
-- Absent attributes read as NULL (numbers/booleans), '' (strings) or [] (arrays).
-- `outcome` is the span's `arc.outcome`, or `app_reported` when the app reported a failure of this
-- call (`arc.report_failure` span whose link points at it: `Links.SpanId`); spans written before
-- `arc.outcome` existed read `http_error` when their status is Error, else `ok`. The join reads only
-- the report spans (SpanName is the second sort key), so it stays cheap in chDB.
CREATE OR REPLACE VIEW `{{database}}`.`arc_llm_calls` {{on_cluster}} AS
SELECT
    Timestamp AS time,
    ServiceName AS service,
    if(SpanAttributes['gen_ai.provider.name'] != '',
       SpanAttributes['gen_ai.provider.name'], SpanAttributes['gen_ai.system']) AS provider,
    SpanAttributes['gen_ai.operation.name'] AS operation,
    SpanAttributes['gen_ai.request.model'] AS model,
    SpanAttributes['gen_ai.response.model'] AS response_model,
    SpanAttributes['gen_ai.response.id'] AS response_id,
    toFloat64OrNull(SpanAttributes['gen_ai.request.temperature']) AS temperature,
    toFloat64OrNull(SpanAttributes['gen_ai.request.top_p']) AS top_p,
    toInt64OrNull(SpanAttributes['gen_ai.request.max_tokens']) AS max_tokens,
    toInt64OrNull(SpanAttributes['gen_ai.request.seed']) AS seed,
    toFloat64OrNull(SpanAttributes['gen_ai.request.frequency_penalty']) AS frequency_penalty,
    toFloat64OrNull(SpanAttributes['gen_ai.request.presence_penalty']) AS presence_penalty,
    toInt64OrNull(SpanAttributes['gen_ai.request.choice.count']) AS choice_count,
    JSONExtract(SpanAttributes['gen_ai.request.stop_sequences'], 'Array(String)') AS stop_sequences,
    if(mapContains(SpanAttributes, 'gen_ai.request.stream'),
       CAST(SpanAttributes['gen_ai.request.stream'] = 'true', 'Bool'), NULL) AS stream,
    CAST(SpanAttributes['arc.fix.applied'] = 'true', 'Bool') AS fix_applied,
    if(startsWith(SpanAttributes['arc.fix.pattern_ids'], '['),
       JSONExtract(SpanAttributes['arc.fix.pattern_ids'], 'Array(String)'),
       splitByChar(',', SpanAttributes['arc.fix.pattern_ids'])) AS pattern_ids,
    SpanAttributes['arc.fix.skipped_reason'] AS fix_skipped_reason,
    toFloat64OrNull(SpanAttributes['arc.fix.confidence']) AS fix_confidence,
    SpanAttributes['arc.fix.changes'] AS fix_changes,
    if(mapContains(SpanAttributes, 'arc.pattern.matched'),
       CAST(SpanAttributes['arc.pattern.matched'] = 'true', 'Bool'), NULL) AS pattern_matched,
    toFloat64OrNull(SpanAttributes['arc.pattern.lookup_us']) AS pattern_lookup_us,
    SpanAttributes['arc.patterns.bundle_version'] AS bundle_version,
    CAST(SpanAttributes['arc.breaker.open'] = 'true', 'Bool') AS breaker_open,
    CAST(SpanAttributes['arc.sampled_out'] = 'true', 'Bool') AS sampled_out,
    toFloat64OrNull(SpanAttributes['arc.interception.latency_us']) AS interception_latency_us,
    Duration AS duration_ns,
    Duration / 1e6 AS duration_ms,
    toInt64OrNull(SpanAttributes['gen_ai.usage.input_tokens']) AS input_tokens,
    toInt64OrNull(SpanAttributes['gen_ai.usage.output_tokens']) AS output_tokens,
    JSONExtract(SpanAttributes['gen_ai.response.finish_reasons'], 'Array(String)') AS finish_reasons,
    toFloat64OrNull(SpanAttributes['gen_ai.response.time_to_first_chunk']) AS time_to_first_chunk,
    SpanAttributes['error.type'] AS error_type,
    StatusCode AS status_code,
    TraceId AS trace_id,
    SpanId AS span_id,
    multiIf(reports.kind != '', 'app_reported', SpanAttributes['arc.outcome'] != '', SpanAttributes['arc.outcome'],
            StatusCode = 'Error', 'http_error', 'ok') AS outcome,
    CAST(reports.kind != '', 'Bool') AS app_reported,
    reports.kind AS app_report_kind,
    toInt64OrNull(SpanAttributes['http.response.status_code']) AS http_status,
    SpanAttributes['arc.error.code'] AS error_code,
    SpanAttributes['arc.error.param'] AS error_param,
    SpanAttributes['arc.error.type'] AS error_provider_type,
    JSONExtract(SpanAttributes['arc.request.params'], 'Array(String)') AS request_params,
    toInt64OrNull(SpanAttributes['arc.request.prompt_tokens_est']) AS prompt_tokens_est,
    toInt64OrNull(SpanAttributes['arc.request.message_count']) AS message_count,
    toInt64OrNull(SpanAttributes['arc.request.tool_count']) AS tool_count,
    toInt64OrNull(SpanAttributes['arc.request.max_completion_tokens']) AS max_completion_tokens,
    if(SpanAttributes['arc.request.response_format'] != '', SpanAttributes['arc.request.response_format'],
       'text') AS response_format,
    SpanAttributes['arc.request.system_fingerprint'] AS system_fingerprint
FROM `{{database}}`.`{{table}}` AS calls
LEFT JOIN (
    SELECT arrayJoin(Links.SpanId) AS linked_span_id, any(SpanAttributes['arc.report.kind']) AS kind
    FROM `{{database}}`.`{{table}}`
    WHERE SpanName = 'arc.report_failure'
    GROUP BY linked_span_id
) AS reports ON reports.linked_span_id = calls.SpanId
WHERE mapContains(SpanAttributes, 'gen_ai.operation.name')
