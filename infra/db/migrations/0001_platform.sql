-- The platform's own bookkeeping. Each bounded context adds its tables in later migrations.
CREATE TABLE IF NOT EXISTS platform_events (
    id          BIGSERIAL PRIMARY KEY,
    kind        TEXT        NOT NULL,
    detail      JSONB       NOT NULL DEFAULT '{}'::jsonb,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
