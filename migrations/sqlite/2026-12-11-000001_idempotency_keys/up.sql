-- Idempotency keys (SPEC §10): the first successful answer to a request
-- sent with `Idempotency-Key`, kept for 24 hours and answered again to the
-- same user's retries. The row is written in the same transaction as what
-- the request did, so either both are there or neither.
CREATE TABLE idempotency_keys (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    idempotency_key TEXT NOT NULL,
    -- sha256 of the method, path and body: another request under the same key is refused
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, idempotency_key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
