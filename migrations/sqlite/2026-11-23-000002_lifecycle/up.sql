-- The audit trail keeps history: no foreign key to projects, which may be purged.
CREATE TABLE audit_events (
    id             text PRIMARY KEY,
    org_id         text NOT NULL REFERENCES orgs (id),
    actor_user_id  text NOT NULL,
    action         text NOT NULL,
    project_id     text NULL,
    fields         text NOT NULL DEFAULT '',
    created_at     bigint NOT NULL
);
CREATE INDEX audit_events_org_idx ON audit_events (org_id, created_at DESC, id DESC);
CREATE INDEX audit_events_project_idx ON audit_events (org_id, project_id, created_at DESC, id DESC);

-- Costs are exact: billionths of a US dollar.
CREATE TABLE usage_records (
    id               text PRIMARY KEY,
    org_id           text NOT NULL,
    project_id       text NOT NULL,
    cost_nanos       bigint NOT NULL CHECK (cost_nanos >= 0),
    model            text NOT NULL,
    input_tokens     bigint NOT NULL CHECK (input_tokens >= 0),
    output_tokens    bigint NOT NULL CHECK (output_tokens >= 0),
    occurred_at      bigint NOT NULL,
    created_at       bigint NOT NULL,
    idempotency_key  text NULL,
    request_sha256   blob NULL,
    CONSTRAINT usage_records_project_fkey FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id)
);
CREATE INDEX usage_records_project_idx ON usage_records (org_id, project_id);
CREATE UNIQUE INDEX usage_records_idempotency_key ON usage_records (org_id, project_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- Idempotency-Key of creates: which project the first request made.
CREATE TABLE idempotency_keys (
    org_id          text NOT NULL REFERENCES orgs (id),
    scope           text NOT NULL,
    key             text NOT NULL,
    request_sha256  blob NOT NULL,
    project_id      text NOT NULL,
    created_at      bigint NOT NULL,
    PRIMARY KEY (org_id, scope, key)
);
CREATE INDEX projects_org_deleted_idx ON projects (deleted_at) WHERE deleted_at IS NOT NULL;
