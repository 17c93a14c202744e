//! The tables of both migration sets, for diesel's query builder: one schema, the backend
//! differences hidden in the column types of [`crate::types`].

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Instant, Json};

    orgs (id) {
        id -> Id,
        name -> Text,
        created_at -> Instant,
        projects_used -> BigInt,
        members_used -> BigInt,
        api_keys_used -> BigInt,
        stored_bytes -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Instant, Json};

    users (id) {
        id -> Id,
        org_id -> Id,
        email -> Text,
        role -> Text,
        default_project_visibility -> Nullable<Text>,
        active_team_id -> Nullable<Id>,
        created_at -> Instant,
        removed_at -> Nullable<Instant>,
        kind -> Text,
        name -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Instant, Json};

    teams (id) {
        id -> Id,
        org_id -> Id,
        name -> Text,
        created_at -> Instant,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Instant, Json};

    team_members (org_id, team_id, user_id) {
        org_id -> Id,
        team_id -> Id,
        user_id -> Id,
        created_at -> Instant,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Instant, Json};

    api_keys (id) {
        id -> Id,
        org_id -> Id,
        user_id -> Id,
        name -> Text,
        key_prefix -> Text,
        key_sha256 -> Binary,
        scopes -> Text,
        created_at -> Instant,
        last_used_at -> Nullable<Instant>,
        revoked_at -> Nullable<Instant>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Instant, Json};

    projects (id) {
        id -> Id,
        org_id -> Id,
        team_id -> Nullable<Id>,
        owner_user_id -> Id,
        name -> Text,
        slug -> Text,
        description -> Nullable<Text>,
        prompt -> Nullable<Text>,
        emoji -> Nullable<Text>,
        visibility -> Text,
        status -> Text,
        tags -> Json,
        metadata -> Json,
        created_at -> Instant,
        updated_at -> Instant,
        deleted_at -> Nullable<Instant>,
        version -> BigInt,
        budget_nanos -> Nullable<BigInt>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Instant, Json};

    project_shares (org_id, project_id, team_id) {
        org_id -> Id,
        project_id -> Id,
        team_id -> Id,
        created_at -> Instant,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Instant, Json};

    audit_events (id) {
        id -> Id,
        org_id -> Id,
        actor_user_id -> Id,
        action -> Text,
        project_id -> Nullable<Id>,
        fields -> Text,
        created_at -> Instant,
        target_type -> Nullable<Text>,
        target_id -> Nullable<Id>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Instant, Json};

    usage_records (id) {
        id -> Id,
        org_id -> Id,
        project_id -> Id,
        cost_nanos -> BigInt,
        model -> Text,
        input_tokens -> BigInt,
        output_tokens -> BigInt,
        occurred_at -> Instant,
        created_at -> Instant,
        idempotency_key -> Nullable<Text>,
        request_sha256 -> Nullable<Binary>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Instant, Json};

    idempotency_keys (org_id, scope, key) {
        org_id -> Id,
        scope -> Text,
        key -> Text,
        request_sha256 -> Binary,
        project_id -> Id,
        created_at -> Instant,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Instant, Json};

    workspaces (workspace_ref) {
        workspace_ref -> Text,
        org_id -> Id,
        project_id -> Id,
        user_id -> Id,
        head_revision -> Nullable<Text>,
        created_at -> Instant,
        last_used_at -> Instant,
        head_seq -> Nullable<BigInt>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Instant};

    workspace_revisions (workspace_ref, seq) {
        workspace_ref -> Text,
        seq -> BigInt,
        revision -> Text,
        base_revision -> Nullable<Text>,
        author_user_id -> Nullable<Id>,
        message -> Nullable<Text>,
        files_changed -> BigInt,
        file_count -> BigInt,
        dir_count -> BigInt,
        total_bytes -> BigInt,
        created_at -> Instant,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    workspace_entries (workspace_ref, path, valid_from) {
        workspace_ref -> Text,
        path -> Text,
        parent -> Text,
        name -> Text,
        kind -> Text,
        is_dir -> Bool,
        implied -> Bool,
        size -> BigInt,
        mtime_unix_ms -> BigInt,
        sha256 -> Nullable<Text>,
        mode -> Nullable<BigInt>,
        link_target -> Nullable<Text>,
        valid_from -> BigInt,
        valid_to -> Nullable<BigInt>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::Instant;

    workspace_blobs (workspace_ref, sha256) {
        workspace_ref -> Text,
        sha256 -> Text,
        size -> BigInt,
        touched_at -> Instant,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Instant, Json};

    workspace_sessions (session_ref) {
        session_ref -> Text,
        workspace_ref -> Text,
        org_id -> Id,
        session_type -> Text,
        state -> Text,
        created_at -> Instant,
        last_used_at -> Instant,
        closed_at -> Nullable<Instant>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Instant, Json};

    invitations (token_sha256) {
        token_sha256 -> Binary,
        org_id -> Id,
        user_id -> Id,
        created_at -> Instant,
        expires_at -> Instant,
        role -> Text,
        used_at -> Nullable<Instant>,
    }
}

diesel::joinable!(api_keys -> users (user_id));
diesel::joinable!(invitations -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(
    invitations,
    workspaces,
    workspace_revisions,
    workspace_entries,
    workspace_blobs,
    workspace_sessions,
    audit_events,
    usage_records,
    idempotency_keys,
    orgs,
    users,
    teams,
    team_members,
    api_keys,
    projects,
    project_shares
);
