-- arc_llm_calls: one row per LLM call span (any span carrying gen_ai.operation.name), with the
-- string-typed attributes the exporter stores cast back to numbers, booleans and arrays.
-- Absent attributes read as NULL (numbers/booleans), '' (strings) or [] (arrays).
CREATE OR REPLACE VIEW `{{database}}`.`arc_llm_calls` {{on_cluster}} AS
SELECT
    Timestamp AS time,
    ServiceName AS service,
    if(SpanAttributes['gen_ai.provider.name'] != '',
       SpanAttributes['gen_ai.provider.name'], SpanAttributes['gen_ai.system']) AS provider,
    SpanAttributes['gen_ai.operation.name'] AS operation,
    SpanAttributes['gen_ai.request.model'] AS model,
    SpanAttributes['gen_ai.response.model'] AS response_model,
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
    SpanId AS span_id
FROM `{{database}}`.`{{table}}`
WHERE mapContains(SpanAttributes, 'gen_ai.operation.name')
