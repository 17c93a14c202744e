-- The workspace tree in the database: each revision a row, each entry a row valid over a range of
-- revisions (valid_from .. valid_to, exclusive; NULL while live), so a write adds and ends only the
-- rows it changes and a listing at any revision is one index range. Paths sort in byte order.
ALTER TABLE workspaces ADD COLUMN head_seq bigint NULL;

CREATE TABLE workspace_revisions (
    workspace_ref   text NOT NULL REFERENCES workspaces (workspace_ref),
    seq             bigint NOT NULL,
    revision        text NOT NULL,
    base_revision   text NULL,
    author_user_id  uuid NULL,
    message         text NULL,
    files_changed   bigint NOT NULL,
    file_count      bigint NOT NULL,
    dir_count       bigint NOT NULL,
    total_bytes     bigint NOT NULL,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (workspace_ref, seq),
    CONSTRAINT workspace_revisions_revision_key UNIQUE (workspace_ref, revision)
);

CREATE TABLE workspace_entries (
    workspace_ref  text NOT NULL,
    path           text COLLATE "C" NOT NULL,
    parent         text COLLATE "C" NOT NULL,
    name           text COLLATE "C" NOT NULL,
    kind           text NOT NULL,
    is_dir         boolean NOT NULL,
    implied        boolean NOT NULL,
    size           bigint NOT NULL,
    mtime_unix_ms  bigint NOT NULL,
    sha256         text NULL,
    mode           bigint NULL,
    link_target    text NULL,
    valid_from     bigint NOT NULL,
    valid_to       bigint NULL,
    PRIMARY KEY (workspace_ref, path, valid_from)
);
-- One live row per path.
CREATE UNIQUE INDEX workspace_entries_live_key ON workspace_entries (workspace_ref, path) WHERE valid_to IS NULL;
CREATE INDEX workspace_entries_listing_idx ON workspace_entries (workspace_ref, parent, is_dir DESC, name, valid_from);
CREATE INDEX workspace_entries_born_idx ON workspace_entries (workspace_ref, valid_from);
CREATE INDEX workspace_entries_ended_idx ON workspace_entries (workspace_ref, valid_to) WHERE valid_to IS NOT NULL;
CREATE INDEX workspace_entries_blob_idx ON workspace_entries (workspace_ref, sha256) WHERE sha256 IS NOT NULL;

-- Blobs known to be in the blob store (or about to be), and when a write last vouched for them:
-- the collector only takes what nothing references and nobody touched within the grace period.
CREATE TABLE workspace_blobs (
    workspace_ref  text NOT NULL,
    sha256         text NOT NULL,
    size           bigint NOT NULL,
    touched_at     timestamptz NOT NULL,
    PRIMARY KEY (workspace_ref, sha256)
);
CREATE INDEX workspace_blobs_touched_idx ON workspace_blobs (touched_at);
