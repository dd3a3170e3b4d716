-- The W3C trace context (traceparent, tracestate) of the request that wrote each outbox row,
-- so the relay starts the saga inside that request's trace: one order, one trace.
ALTER TABLE outbox ADD COLUMN trace_context JSONB NOT NULL DEFAULT '{}'::jsonb;
