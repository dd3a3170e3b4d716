-- Order saga: the catalog and stock (inventory), orders, the mock PSP's state (payments), and the
-- edge's ledger with its outbox (checkout). One database, one set of tables per bounded context.

CREATE TABLE products (
    product_id      TEXT PRIMARY KEY,
    name            TEXT        NOT NULL,
    price_cents     BIGINT      NOT NULL CHECK (price_cents >= 0),
    stock_on_hand   INTEGER     NOT NULL DEFAULT 0 CHECK (stock_on_hand >= 0),
    stock_reserved  INTEGER     NOT NULL DEFAULT 0 CHECK (stock_reserved >= 0),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (stock_reserved <= stock_on_hand)
);

CREATE TABLE inventory_reservations (
    order_id     TEXT        NOT NULL,
    product_id   TEXT        NOT NULL REFERENCES products (product_id),
    quantity     INTEGER     NOT NULL CHECK (quantity > 0),
    status       TEXT        NOT NULL CHECK (status IN ('RESERVED', 'RELEASED')),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    released_at  TIMESTAMPTZ,
    PRIMARY KEY (order_id, product_id)
);

CREATE TABLE inventory_adjustments (
    adjustment_id    BIGSERIAL PRIMARY KEY,
    product_id       TEXT        NOT NULL REFERENCES products (product_id),
    quantity_delta   INTEGER     NOT NULL,
    reason           TEXT        NOT NULL,
    idempotency_key  TEXT,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (product_id, idempotency_key)
);

CREATE TABLE orders (
    order_id         UUID PRIMARY KEY,
    order_ledger_id  UUID        NOT NULL UNIQUE,
    customer_id      TEXT        NOT NULL,
    status           TEXT        NOT NULL CHECK (status IN ('CREATED', 'CONFIRMED', 'CANCELLED')),
    total_cents      BIGINT      NOT NULL CHECK (total_cents >= 0),
    currency         TEXT        NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE order_items (
    order_id          UUID    NOT NULL REFERENCES orders (order_id),
    product_id        TEXT    NOT NULL,
    quantity          INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_cents  BIGINT  NOT NULL CHECK (unit_price_cents >= 0),
    PRIMARY KEY (order_id, product_id)
);

CREATE TABLE payment_authorizations (
    authorization_id  TEXT PRIMARY KEY,
    idempotency_key   TEXT UNIQUE,
    payment_method    TEXT        NOT NULL,
    amount_cents      BIGINT      NOT NULL CHECK (amount_cents >= 0),
    currency          TEXT        NOT NULL,
    status            TEXT        NOT NULL
        CHECK (status IN ('AUTHORIZED', 'DECLINED', 'CAPTURED', 'VOIDED', 'REFUNDED')),
    capture_attempts  INTEGER     NOT NULL DEFAULT 0,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Every call the mock PSP answered, so tests and people can see exactly what happened.
CREATE TABLE payment_operations (
    operation_id      BIGSERIAL PRIMARY KEY,
    authorization_id  TEXT        NOT NULL,
    operation         TEXT        NOT NULL CHECK (operation IN ('authorize', 'capture', 'void')),
    outcome           TEXT        NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX payment_operations_by_authorization ON payment_operations (authorization_id);

CREATE TABLE order_ledger (
    order_ledger_id      UUID PRIMARY KEY,
    client_request_id    TEXT        NOT NULL UNIQUE,
    request_fingerprint  TEXT        NOT NULL,
    customer_id          TEXT        NOT NULL,
    status               TEXT        NOT NULL,
    total_cents          BIGINT      NOT NULL CHECK (total_cents >= 0),
    currency             TEXT        NOT NULL,
    payment_method       TEXT        NOT NULL,
    authorization_id     TEXT,
    workflow_id          TEXT,
    order_id             UUID,
    failure_reason       TEXT,
    retry_count          INTEGER     NOT NULL DEFAULT 0,
    next_retry_at        TIMESTAMPTZ,
    steps                JSONB       NOT NULL DEFAULT '[]'::jsonb,
    response_code        INTEGER     NOT NULL,
    response_body        JSONB       NOT NULL,
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX order_ledger_by_customer ON order_ledger (customer_id, created_at);

CREATE TABLE order_ledger_items (
    order_ledger_id   UUID    NOT NULL REFERENCES order_ledger (order_ledger_id),
    product_id        TEXT    NOT NULL,
    quantity          INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_cents  BIGINT  NOT NULL CHECK (unit_price_cents >= 0),
    PRIMARY KEY (order_ledger_id, product_id)
);

CREATE TABLE outbox (
    id            BIGSERIAL PRIMARY KEY,
    aggregate_id  UUID        NOT NULL,
    event_type    TEXT        NOT NULL,
    payload       JSONB       NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_at  TIMESTAMPTZ,
    attempts      INTEGER     NOT NULL DEFAULT 0,
    last_error    TEXT
);
-- The relay only ever scans what is not yet published.
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
