//! The pure domain model of the Projects service.
//!
//! Entities, newtypes that validate on construction, and the permission and visibility rules.
//! No I/O, no async runtime, no HTTP, no database types: this crate can be embedded in any Rust
//! service that needs to reason about projects the same way this one does.

pub mod access;
pub mod api_key;
pub mod identity;
pub mod ids;
pub mod lifecycle;
pub mod page;
pub mod project;
pub mod quota;
pub mod records;
pub mod sessions;
pub mod tree;
pub mod validation;
pub mod workspace;

pub use access::{can_view_project, ProjectAudience, Viewer};
pub use api_key::{
    ApiKeyPrefix, ApiKeyToken, InvitationToken, KeyFormat, ALUMIA_KEY_PREFIX, API_KEY_PREFIX, INVITATION_PREFIX,
};
pub use identity::{
    service_account_email, ApiKey, Email, Invitation, Org, OrgName, Permission, PermissionSet, Role, Team, User,
    UserKind,
};
pub use ids::{ApiKeyId, OrgId, ProjectId, TeamId, UserId};
pub use lifecycle::{Patch, ProjectPatch, ProjectPatchInput, Usd};
pub use page::{Cursor, PageRequest};
pub use project::{
    Description, Emoji, Metadata, NewProject, NewProjectInput, Project, ProjectName, ProjectStatus, Prompt, Slug, Tags,
    Visibility,
};
pub use quota::{Quota, QuotaExceeded, Quotas};
pub use records::{AuditEvent, UsageRecord};
pub use sessions::{is_session_ref, layout, workspace_ref, SessionState, SessionType};
pub use tree::{
    build_tree, is_revision_id, pair_versions, plan_changes, plan_replace, plan_restore, EntryVersion, HeadView,
    PathChange, TreeChange, TreeEdit, TreeEntry, TreeError, TreeNeeds,
};
pub use validation::{is_lower_hex, without_nul, FieldError, ValidationErrors};
pub use workspace::{ByteRange, Child, EntryKind, Manifest, ManifestEntry, ManifestStats, WorkspacePath};

/// Every instant the service stores. Truncated to microseconds by the clock so that it survives a
/// round trip through PostgreSQL unchanged.
pub type Timestamp = time::OffsetDateTime;
