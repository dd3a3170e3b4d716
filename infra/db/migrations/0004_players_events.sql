-- Players and events (DESIGN 7): profiles, stats derived from hand results, every event of the
-- gateway's and the game's streams stored once, and the entries that could not be stored.

CREATE TABLE players (
    user_id       TEXT PRIMARY KEY,
    display_name  TEXT        NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Its own table, so a hand result never needs (or creates) a profile.
CREATE TABLE player_stats (
    user_id       TEXT PRIMARY KEY,
    hands_played  BIGINT      NOT NULL DEFAULT 0 CHECK (hands_played >= 0),
    hands_won     BIGINT      NOT NULL DEFAULT 0 CHECK (hands_won >= 0),
    net_chips     BIGINT      NOT NULL DEFAULT 0,
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (hands_won <= hands_played)
);

-- The primary key is what makes a replayed stream entry, or a hand appended twice, a no-op.
CREATE TABLE events (
    event_id   TEXT PRIMARY KEY,
    type       TEXT        NOT NULL,
    -- The one user of a session event; NULL for a hand, which concerns every id in user_ids.
    user_id    TEXT,
    user_ids   TEXT[]      NOT NULL,
    at         TIMESTAMPTZ NOT NULL,
    data       JSONB       NOT NULL DEFAULT '{}'::jsonb,
    stream     TEXT        NOT NULL,
    entry_id   TEXT        NOT NULL,
    stored_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX events_user_ids ON events USING GIN (user_ids);
CREATE INDEX events_type_at ON events (type, at DESC);
CREATE INDEX events_at ON events (at DESC);

-- Dead letters: a stream entry that is not a valid event, kept with why, so it is acknowledged
-- (and stops nothing) without being lost.
CREATE TABLE events_parked (
    stream     TEXT        NOT NULL,
    entry_id   TEXT        NOT NULL,
    reason     TEXT        NOT NULL,
    fields     JSONB       NOT NULL,
    parked_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (stream, entry_id)
);
