-- Tenancy is enforced by composite foreign keys: a row can only refer to rows of its own org.

CREATE TABLE orgs (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL,
    CONSTRAINT orgs_name_key UNIQUE (name)
);

CREATE TABLE users (
    id                          uuid PRIMARY KEY,
    org_id                      uuid NOT NULL REFERENCES orgs (id),
    email                       text NOT NULL,
    role                        text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    default_project_visibility  text NULL CHECK (default_project_visibility IN ('private', 'shared')),
    active_team_id              uuid NULL,
    created_at                  timestamptz NOT NULL,
    removed_at                  timestamptz NULL,
    CONSTRAINT users_org_id_key UNIQUE (org_id, id)
);
-- A removed member frees their email: only current members are unique per org.
CREATE UNIQUE INDEX users_org_email_live_key ON users (org_id, email) WHERE removed_at IS NULL;

CREATE TABLE teams (
    id          uuid PRIMARY KEY,
    org_id      uuid NOT NULL REFERENCES orgs (id),
    name        text NOT NULL,
    created_at  timestamptz NOT NULL,
    CONSTRAINT teams_org_id_key UNIQUE (org_id, id),
    CONSTRAINT teams_org_name_key UNIQUE (org_id, name)
);

CREATE TABLE team_members (
    org_id      uuid NOT NULL,
    team_id     uuid NOT NULL,
    user_id     uuid NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (org_id, team_id, user_id),
    CONSTRAINT team_members_team_fkey FOREIGN KEY (org_id, team_id) REFERENCES teams (org_id, id),
    CONSTRAINT team_members_user_fkey FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);
CREATE INDEX team_members_user_idx ON team_members (user_id);

CREATE TABLE api_keys (
    id            uuid PRIMARY KEY,
    org_id        uuid NOT NULL,
    user_id       uuid NOT NULL,
    name          text NOT NULL,
    key_prefix    text NOT NULL,
    key_sha256    bytea NOT NULL,
    scopes        text NOT NULL,
    created_at    timestamptz NOT NULL,
    last_used_at  timestamptz NULL,
    revoked_at    timestamptz NULL,
    CONSTRAINT api_keys_key_sha256_key UNIQUE (key_sha256),
    CONSTRAINT api_keys_user_fkey FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);
CREATE INDEX api_keys_org_user_idx ON api_keys (org_id, user_id);

CREATE TABLE projects (
    id             uuid PRIMARY KEY,
    org_id         uuid NOT NULL REFERENCES orgs (id),
    team_id        uuid NULL,
    owner_user_id  uuid NOT NULL,
    name           text NOT NULL,
    slug           text NOT NULL,
    description    text NULL,
    prompt         text NULL,
    emoji          text NULL,
    visibility     text NOT NULL CHECK (visibility IN ('private', 'shared')),
    status         text NOT NULL CHECK (status IN ('active', 'archived', 'completed')),
    tags           jsonb NOT NULL DEFAULT '[]',
    metadata       jsonb NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    deleted_at     timestamptz NULL,
    version        bigint NOT NULL DEFAULT 1,
    CONSTRAINT projects_org_id_key UNIQUE (org_id, id),
    CONSTRAINT projects_team_fkey FOREIGN KEY (org_id, team_id) REFERENCES teams (org_id, id),
    CONSTRAINT projects_owner_fkey FOREIGN KEY (org_id, owner_user_id) REFERENCES users (org_id, id)
);
-- Slugs are unique among an org's live projects only: a soft-deleted project frees its slug.
CREATE UNIQUE INDEX projects_org_slug_live_key ON projects (org_id, slug) WHERE deleted_at IS NULL;
-- Keyset pagination, newest first, and the visibility predicates.
CREATE INDEX projects_org_created_live_idx ON projects (org_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX projects_org_owner_idx ON projects (org_id, owner_user_id, created_at DESC) WHERE deleted_at IS NULL;
CREATE INDEX projects_org_team_idx ON projects (org_id, team_id) WHERE deleted_at IS NULL;

CREATE TABLE project_shares (
    org_id      uuid NOT NULL,
    project_id  uuid NOT NULL,
    team_id     uuid NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (org_id, project_id, team_id),
    CONSTRAINT project_shares_project_fkey FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    CONSTRAINT project_shares_team_fkey FOREIGN KEY (org_id, team_id) REFERENCES teams (org_id, id)
);
CREATE INDEX project_shares_team_idx ON project_shares (team_id, project_id);
