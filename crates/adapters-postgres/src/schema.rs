// The tables of migrations/postgres, for diesel's query builder.

diesel::table! {
    orgs (id) {
        id -> Uuid,
        name -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        org_id -> Uuid,
        email -> Text,
        role -> Text,
        default_project_visibility -> Nullable<Text>,
        active_team_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        removed_at -> Nullable<Timestamptz>,
        kind -> Text,
        name -> Nullable<Text>,
    }
}

diesel::table! {
    teams (id) {
        id -> Uuid,
        org_id -> Uuid,
        name -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    team_members (org_id, team_id, user_id) {
        org_id -> Uuid,
        team_id -> Uuid,
        user_id -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Uuid,
        org_id -> Uuid,
        user_id -> Uuid,
        name -> Text,
        key_prefix -> Text,
        key_sha256 -> Bytea,
        scopes -> Text,
        created_at -> Timestamptz,
        last_used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    projects (id) {
        id -> Uuid,
        org_id -> Uuid,
        team_id -> Nullable<Uuid>,
        owner_user_id -> Uuid,
        name -> Text,
        slug -> Text,
        description -> Nullable<Text>,
        prompt -> Nullable<Text>,
        emoji -> Nullable<Text>,
        visibility -> Text,
        status -> Text,
        tags -> Jsonb,
        metadata -> Jsonb,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
        version -> BigInt,
    }
}

diesel::table! {
    project_shares (org_id, project_id, team_id) {
        org_id -> Uuid,
        project_id -> Uuid,
        team_id -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Uuid,
        org_id -> Uuid,
        actor_user_id -> Uuid,
        action -> Text,
        project_id -> Nullable<Uuid>,
        fields -> Text,
        created_at -> Timestamptz,
        target_type -> Nullable<Text>,
        target_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    usage_records (id) {
        id -> Uuid,
        org_id -> Uuid,
        project_id -> Uuid,
        cost_nanos -> BigInt,
        model -> Text,
        input_tokens -> BigInt,
        output_tokens -> BigInt,
        occurred_at -> Timestamptz,
        created_at -> Timestamptz,
        idempotency_key -> Nullable<Text>,
        request_sha256 -> Nullable<Bytea>,
    }
}

diesel::table! {
    idempotency_keys (org_id, scope, key) {
        org_id -> Uuid,
        scope -> Text,
        key -> Text,
        request_sha256 -> Bytea,
        project_id -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    workspaces (workspace_ref) {
        workspace_ref -> Text,
        org_id -> Uuid,
        project_id -> Uuid,
        user_id -> Uuid,
        head_revision -> Nullable<Text>,
        created_at -> Timestamptz,
        last_used_at -> Timestamptz,
    }
}

diesel::table! {
    workspace_sessions (session_ref) {
        session_ref -> Text,
        workspace_ref -> Text,
        org_id -> Uuid,
        session_type -> Text,
        state -> Text,
        created_at -> Timestamptz,
        last_used_at -> Timestamptz,
        closed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    invitations (token_sha256) {
        token_sha256 -> Bytea,
        org_id -> Uuid,
        user_id -> Uuid,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        role -> Text,
        used_at -> Nullable<Timestamptz>,
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
