// The tables of migrations/sqlite, for diesel's query builder. Ids are hyphenated UUID text,
// instants are microseconds since the Unix epoch, JSON is text.

diesel::table! {
    orgs (id) {
        id -> Text,
        name -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        org_id -> Text,
        email -> Text,
        role -> Text,
        default_project_visibility -> Nullable<Text>,
        active_team_id -> Nullable<Text>,
        created_at -> BigInt,
        removed_at -> Nullable<BigInt>,
        kind -> Text,
        name -> Nullable<Text>,
    }
}

diesel::table! {
    teams (id) {
        id -> Text,
        org_id -> Text,
        name -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    team_members (org_id, team_id, user_id) {
        org_id -> Text,
        team_id -> Text,
        user_id -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        org_id -> Text,
        user_id -> Text,
        name -> Text,
        key_prefix -> Text,
        key_sha256 -> Binary,
        scopes -> Text,
        created_at -> BigInt,
        last_used_at -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    projects (id) {
        id -> Text,
        org_id -> Text,
        team_id -> Nullable<Text>,
        owner_user_id -> Text,
        name -> Text,
        slug -> Text,
        description -> Nullable<Text>,
        prompt -> Nullable<Text>,
        emoji -> Nullable<Text>,
        visibility -> Text,
        status -> Text,
        tags -> Text,
        metadata -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
        deleted_at -> Nullable<BigInt>,
        version -> BigInt,
    }
}

diesel::table! {
    project_shares (org_id, project_id, team_id) {
        org_id -> Text,
        project_id -> Text,
        team_id -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        org_id -> Text,
        actor_user_id -> Text,
        action -> Text,
        project_id -> Nullable<Text>,
        fields -> Text,
        created_at -> BigInt,
        target_type -> Nullable<Text>,
        target_id -> Nullable<Text>,
    }
}

diesel::table! {
    usage_records (id) {
        id -> Text,
        org_id -> Text,
        project_id -> Text,
        cost_nanos -> BigInt,
        model -> Text,
        input_tokens -> BigInt,
        output_tokens -> BigInt,
        occurred_at -> BigInt,
        created_at -> BigInt,
        idempotency_key -> Nullable<Text>,
        request_sha256 -> Nullable<Binary>,
    }
}

diesel::table! {
    idempotency_keys (org_id, scope, key) {
        org_id -> Text,
        scope -> Text,
        key -> Text,
        request_sha256 -> Binary,
        project_id -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    workspaces (workspace_ref) {
        workspace_ref -> Text,
        org_id -> Text,
        project_id -> Text,
        user_id -> Text,
        head_revision -> Nullable<Text>,
        created_at -> BigInt,
        last_used_at -> BigInt,
    }
}

diesel::table! {
    workspace_sessions (session_ref) {
        session_ref -> Text,
        workspace_ref -> Text,
        org_id -> Text,
        session_type -> Text,
        state -> Text,
        created_at -> BigInt,
        last_used_at -> BigInt,
        closed_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    invitations (token_sha256) {
        token_sha256 -> Binary,
        org_id -> Text,
        user_id -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        role -> Text,
        used_at -> Nullable<BigInt>,
    }
}

diesel::joinable!(api_keys -> users (user_id));
diesel::joinable!(invitations -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(
    invitations,
    workspaces,
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
