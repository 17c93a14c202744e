//! Projects and the validating newtypes of their fields (limits from the Alumia seed).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ids::{OrgId, ProjectId, TeamId, UserId};
use crate::validation::{FieldError, ValidationErrors};
use crate::Timestamp;

/// Counts Unicode scalar values, the unit every length limit is expressed in.
fn char_len(s: &str) -> usize {
    s.chars().count()
}

fn too_long(field: &str, max: usize) -> FieldError {
    FieldError::new(field, format!("must be at most {max} characters"))
}

/// Stored text never holds NUL: PostgreSQL can keep it neither in `text` nor in `jsonb`, so it is
/// refused on every backend alike rather than failing on one.
fn has_nul(s: &str) -> bool {
    s.contains('\0')
}

fn nul_refused(field: &str) -> FieldError {
    FieldError::new(field, "must not contain NUL characters")
}

macro_rules! bounded_text {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;

            pub fn new(raw: &str) -> Result<Self, FieldError> {
                if char_len(raw) > Self::MAX_CHARS {
                    return Err(too_long($field, Self::MAX_CHARS));
                }
                if has_nul(raw) {
                    return Err(nul_refused($field));
                }
                Ok(Self(raw.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}

bounded_text!(
    /// A project's description: up to 5,000 characters.
    Description,
    "description",
    5_000
);
bounded_text!(
    /// A project-wide system prompt: up to 12,000 characters.
    Prompt,
    "prompt",
    12_000
);
bounded_text!(
    /// A project's emoji: up to 16 characters (an emoji can span several scalar values).
    Emoji,
    "emoji",
    16
);

/// A project's name: 1–255 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProjectName(String);

impl ProjectName {
    pub const MAX_CHARS: usize = 255;

    pub fn new(raw: &str) -> Result<Self, FieldError> {
        // Checked before trimming: some control characters (U+0085) are whitespace too, and a
        // name that arrived with one is refused, as the documented pattern says, not silently cut.
        if raw.chars().any(char::is_control) {
            return Err(FieldError::new("name", "must not contain control characters"));
        }
        let name = raw.trim();
        if name.is_empty() {
            return Err(FieldError::new("name", "must not be empty"));
        }
        if char_len(name) > Self::MAX_CHARS {
            return Err(too_long("name", Self::MAX_CHARS));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name of a duplicate: `<name> (copy)`, the name cut short enough for the suffix to fit.
    pub fn copy_of(&self) -> Self {
        const SUFFIX: &str = " (copy)";
        let kept: String = self.0.chars().take(Self::MAX_CHARS - SUFFIX.chars().count()).collect();
        Self(format!("{}{SUFFIX}", kept.trim_end()))
    }
}

/// A project's URL name: lowercase ASCII letters and digits in hyphen-separated runs, at most 100
/// characters, unique per org among live projects. A slug that parses as a UUID is refused, so
/// that a path segment is never ambiguous between the two.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slug(String);

impl Slug {
    pub const MAX_CHARS: usize = 100;
    /// Derived slugs stay short enough to take a numeric suffix.
    const DERIVED_MAX_CHARS: usize = 80;
    const FALLBACK: &'static str = "project";

    pub fn new(raw: &str) -> Result<Self, FieldError> {
        let well_formed = !raw.is_empty()
            && raw.len() <= Self::MAX_CHARS
            && raw
                .split('-')
                .all(|run| !run.is_empty() && run.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        if !well_formed {
            return Err(FieldError::new(
                "slug",
                format!(
                    "must be 1–{} lowercase letters, digits and single hyphens, not starting or ending with a hyphen",
                    Self::MAX_CHARS
                ),
            ));
        }
        if uuid::Uuid::parse_str(raw).is_ok() {
            return Err(FieldError::new("slug", "must not be a UUID"));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The slug a name gets by default: ASCII letters and digits kept (lower-cased), every other
    /// run of characters turned into one hyphen; `project` when nothing is left.
    pub fn derive_from(name: &ProjectName) -> Self {
        let mut slug = String::new();
        for c in name.as_str().chars() {
            if c.is_ascii_alphanumeric() {
                if slug.len() >= Self::DERIVED_MAX_CHARS {
                    break;
                }
                slug.push(c.to_ascii_lowercase());
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
        let slug = slug.trim_end_matches('-');
        match Self::new(slug) {
            Ok(slug) => slug,
            // Empty, or a name that is itself a UUID.
            Err(_) if slug.is_empty() => Self(Self::FALLBACK.to_owned()),
            Err(_) => Self(format!("{}-{slug}", Self::FALLBACK)),
        }
    }

    /// `base-n`, the n-th alternative when `base` is taken (n ≥ 2).
    pub fn with_suffix(&self, n: u32) -> Self {
        let suffix = format!("-{n}");
        let keep = Self::MAX_CHARS - suffix.len();
        let base = self.0[..self.0.len().min(keep)].trim_end_matches('-');
        Self(format!("{base}{suffix}"))
    }

    /// The first of `self`, `self-2`, `self-3`, … that `is_taken` says is free.
    pub fn first_free(&self, is_taken: impl Fn(&str) -> bool) -> Slug {
        if !is_taken(self.as_str()) {
            return self.clone();
        }
        (2..)
            .map(|n| self.with_suffix(n))
            .find(|candidate| !is_taken(candidate.as_str()))
            .expect("an unbounded range always has a free suffix")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Up to 30 tags of 1–80 characters each, trimmed, duplicates dropped, order kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Tags(Vec<String>);

impl Tags {
    pub const MAX_TAGS: usize = 30;
    pub const MAX_TAG_CHARS: usize = 80;

    pub fn new<S: AsRef<str>>(raw: &[S]) -> Result<Self, FieldError> {
        if raw.len() > Self::MAX_TAGS {
            return Err(FieldError::new("tags", format!("must have at most {} tags", Self::MAX_TAGS)));
        }
        let mut tags: Vec<String> = Vec::with_capacity(raw.len());
        for tag in raw {
            let tag = tag.as_ref().trim();
            if tag.is_empty() {
                return Err(FieldError::new("tags", "must not contain empty tags"));
            }
            if has_nul(tag) {
                return Err(nul_refused("tags"));
            }
            if char_len(tag) > Self::MAX_TAG_CHARS {
                return Err(FieldError::new(
                    "tags",
                    format!("each tag must be at most {} characters", Self::MAX_TAG_CHARS),
                ));
            }
            if !tags.iter().any(|t| t == tag) {
                tags.push(tag.to_owned());
            }
        }
        Ok(Self(tags))
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

/// Free-form project metadata: a JSON object of at most 32,768 bytes (compact) and 12 levels of
/// nesting, the top-level object being level 1.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Metadata(Map<String, Value>);

impl Metadata {
    pub const MAX_BYTES: usize = 32_768;
    pub const MAX_DEPTH: usize = 12;

    pub fn new(raw: Value) -> Result<Self, FieldError> {
        let Value::Object(map) = raw else {
            return Err(FieldError::new("metadata", "must be a JSON object"));
        };
        let object = Value::Object(map);
        if depth(&object) > Self::MAX_DEPTH {
            return Err(FieldError::new("metadata", format!("must be nested at most {} levels deep", Self::MAX_DEPTH)));
        }
        if holds_nul(&object) {
            return Err(nul_refused("metadata"));
        }
        if holds_negative_zero(&object) {
            // jsonb stores numbers as decimals, which have no sign for zero: -0.0 would read back
            // as 0.0, so it cannot round-trip identically on every backend.
            return Err(FieldError::new("metadata", "must not hold -0.0 (write 0)"));
        }
        let size = serde_json::to_vec(&object).map(|v| v.len()).unwrap_or(usize::MAX);
        if size > Self::MAX_BYTES {
            return Err(FieldError::new("metadata", format!("must be at most {} bytes of JSON", Self::MAX_BYTES)));
        }
        match object {
            Value::Object(map) => Ok(Self(map)),
            _ => unreachable!("checked to be an object above"),
        }
    }

    /// Metadata as stored: checked when it was written, so reading it back never fails (limits may
    /// have changed since); anything but an object reads as empty.
    pub fn stored(value: Value) -> Self {
        match value {
            Value::Object(map) => Self(map),
            _ => Self::default(),
        }
    }

    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    pub fn to_value(&self) -> Value {
        Value::Object(self.0.clone())
    }
}

/// Whether any key or string at any depth holds NUL (iteratively, as `depth`).
fn holds_nul(value: &Value) -> bool {
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            Value::String(text) if has_nul(text) => return true,
            Value::Object(map) => {
                if map.keys().any(|key| has_nul(key)) {
                    return true;
                }
                stack.extend(map.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    false
}

/// Whether any number at any depth is negative zero (iteratively, as `depth`).
fn holds_negative_zero(value: &Value) -> bool {
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            Value::Number(number)
                if number.is_f64() && number.as_f64().is_some_and(|f| f == 0.0 && f.is_sign_negative()) =>
            {
                return true
            }
            Value::Object(map) => stack.extend(map.values()),
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    false
}

/// Nesting depth of objects and arrays, iteratively so that hostile input cannot overflow the stack.
fn depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 1usize)];
    while let Some((value, level)) = stack.pop() {
        match value {
            Value::Object(map) => {
                deepest = deepest.max(level);
                stack.extend(map.values().map(|v| (v, level + 1)));
            }
            Value::Array(items) => {
                deepest = deepest.max(level);
                stack.extend(items.iter().map(|v| (v, level + 1)));
            }
            _ => {}
        }
    }
    deepest
}

/// Who may see a project besides its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// The owner only.
    Private,
    /// The project's team (or the whole org when it has no team), plus every team it is shared into.
    Shared,
}

impl Visibility {
    pub const fn as_str(self) -> &'static str {
        match self {
            Visibility::Private => "private",
            Visibility::Shared => "shared",
        }
    }
}

impl FromStr for Visibility {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "private" => Ok(Visibility::Private),
            "shared" => Ok(Visibility::Shared),
            _ => Err(FieldError::new("visibility", "must be private or shared")),
        }
    }
}

/// Where a project is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProjectStatus {
    Active,
    Archived,
    Completed,
}

impl ProjectStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            ProjectStatus::Active => "active",
            ProjectStatus::Archived => "archived",
            ProjectStatus::Completed => "completed",
        }
    }
}

impl FromStr for ProjectStatus {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "active" => Ok(ProjectStatus::Active),
            "archived" => Ok(ProjectStatus::Archived),
            "completed" => Ok(ProjectStatus::Completed),
            _ => Err(FieldError::new("status", "must be one of active, archived, completed")),
        }
    }
}

/// A stored project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: ProjectId,
    pub org_id: OrgId,
    pub team_id: Option<TeamId>,
    pub owner_user_id: UserId,
    pub name: ProjectName,
    pub slug: Slug,
    pub description: Option<Description>,
    pub prompt: Option<Prompt>,
    pub emoji: Option<Emoji>,
    pub visibility: Visibility,
    pub status: ProjectStatus,
    pub tags: Tags,
    pub metadata: Metadata,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub deleted_at: Option<Timestamp>,
    /// Bumped by every change; the basis of ETags and optimistic concurrency.
    pub version: i64,
    /// Spend at or over this stops new sessions and workspace writes; none by default.
    pub budget: Option<crate::Usd>,
}

impl Project {
    /// Whether `spend` leaves this project nothing more to spend.
    pub fn budget_spent(&self, spend: crate::Usd) -> bool {
        self.budget.is_some_and(|budget| spend >= budget)
    }
}

/// The validated fields of a project about to be created. Who creates it, in which org, and when
/// are added by the use case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProject {
    pub name: ProjectName,
    /// An explicit slug; when absent, one is derived from the name.
    pub slug: Option<Slug>,
    pub description: Option<Description>,
    pub prompt: Option<Prompt>,
    pub emoji: Option<Emoji>,
    /// When absent, the caller's default applies.
    pub visibility: Option<Visibility>,
    pub team_id: Option<TeamId>,
    pub tags: Tags,
    pub metadata: Metadata,
}

impl NewProject {
    /// The project this create makes: active, at version 1, owned by its creator; `visibility`
    /// applies when the request named none. Fields a create cannot set start empty.
    pub fn into_project(
        self,
        id: ProjectId,
        org_id: OrgId,
        owner_user_id: UserId,
        visibility: Visibility,
        now: Timestamp,
    ) -> Project {
        Project {
            id,
            org_id,
            team_id: self.team_id,
            owner_user_id,
            slug: self.slug.unwrap_or_else(|| Slug::derive_from(&self.name)),
            name: self.name,
            description: self.description,
            prompt: self.prompt,
            emoji: self.emoji,
            visibility: self.visibility.unwrap_or(visibility),
            status: ProjectStatus::Active,
            tags: self.tags,
            metadata: self.metadata,
            created_at: now,
            updated_at: now,
            deleted_at: None,
            version: 1,
            budget: None,
        }
    }
}

/// The raw, unvalidated fields of a create request, as any surface received them.
#[derive(Debug, Clone, Default)]
pub struct NewProjectInput {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub description: Option<String>,
    pub prompt: Option<String>,
    pub emoji: Option<String>,
    pub visibility: Option<Visibility>,
    pub team_id: Option<TeamId>,
    pub tags: Option<Vec<String>>,
    pub metadata: Option<Value>,
}

impl NewProject {
    /// Validates every field and reports all the bad ones together. `name` is required here;
    /// a surface that can generate names fills it in before calling this.
    pub fn validate(input: NewProjectInput) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let name = match input.name.as_deref() {
            Some(name) => errors.check(ProjectName::new(name)),
            None => {
                errors.add(FieldError::new("name", "is required"));
                None
            }
        };
        let slug = input.slug.as_deref().map(Slug::new).transpose();
        let slug = errors.check(slug);
        let description = errors.check(input.description.as_deref().map(Description::new).transpose());
        let prompt = errors.check(input.prompt.as_deref().map(Prompt::new).transpose());
        let emoji = errors.check(input.emoji.as_deref().map(Emoji::new).transpose());
        let tags = errors.check(Tags::new(input.tags.as_deref().unwrap_or_default()));
        let metadata = errors.check(input.metadata.map(Metadata::new).transpose());
        match (name, slug, description, prompt, emoji, tags, metadata) {
            (Some(name), Some(slug), Some(description), Some(prompt), Some(emoji), Some(tags), Some(metadata))
                if errors.is_empty() =>
            {
                Ok(NewProject {
                    name,
                    slug,
                    description,
                    prompt,
                    emoji,
                    visibility: input.visibility,
                    team_id: input.team_id,
                    tags,
                    metadata: metadata.unwrap_or_default(),
                })
            }
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_are_trimmed_and_bounded_in_characters() {
        assert_eq!(ProjectName::new("  Q3 launch ").unwrap().as_str(), "Q3 launch");
        assert!(ProjectName::new("").is_err());
        assert!(ProjectName::new(" \t ").is_err());
        assert!(ProjectName::new(&"a".repeat(255)).is_ok());
        assert!(ProjectName::new(&"a".repeat(256)).is_err());
        // 255 multi-byte characters are 255 characters, not 765 bytes.
        assert!(ProjectName::new(&"界".repeat(255)).is_ok());
        assert!(ProjectName::new("line\nbreak").is_err());
        assert!(ProjectName::new("trailing NEL\u{85}").is_err(), "a control character is refused, not trimmed");
    }

    #[test]
    fn a_copy_is_named_after_its_source_within_the_limit() {
        assert_eq!(ProjectName::new("Q3 launch").unwrap().copy_of().as_str(), "Q3 launch (copy)");
        let long = ProjectName::new(&"界".repeat(255)).unwrap().copy_of();
        assert_eq!(long.as_str().chars().count(), 255);
        assert!(long.as_str().ends_with("界 (copy)"));
        assert!(ProjectName::new(long.as_str()).is_ok());
    }

    #[test]
    fn text_fields_have_the_seed_limits() {
        assert!(Description::new(&"d".repeat(5_000)).is_ok());
        assert_eq!(Description::new(&"d".repeat(5_001)).unwrap_err().field, "description");
        assert!(Prompt::new(&"p".repeat(12_000)).is_ok());
        assert_eq!(Prompt::new(&"p".repeat(12_001)).unwrap_err().field, "prompt");
        assert!(Emoji::new("👩‍👩‍👧‍👦").is_ok());
        assert_eq!(Emoji::new(&"🙂".repeat(17)).unwrap_err().field, "emoji");
        assert_eq!(Description::new("a\0b").unwrap_err().field, "description");
        assert_eq!(Tags::new(&["ok", "n\0l"]).unwrap_err().field, "tags");
        assert!(Metadata::new(serde_json::json!({"a": [{"deep": "x\0"}]})).is_err());
        assert!(Metadata::new(serde_json::json!({"k\0": 1})).is_err());
        assert!(Metadata::new(serde_json::json!({"a": [{"deep": "tab\tand newline\n are fine"}]})).is_ok());
    }

    #[test]
    fn tags_are_limited_trimmed_and_deduplicated() {
        assert_eq!(Tags::new(&[" a ", "b", "a"]).unwrap().as_slice(), ["a", "b"]);
        assert!(Tags::new(&vec!["t"; 30]).is_ok());
        let thirty_one: Vec<String> = (0..31).map(|i| i.to_string()).collect();
        assert!(Tags::new(&thirty_one).is_err());
        assert!(Tags::new(&["x".repeat(80)]).is_ok());
        assert!(Tags::new(&["x".repeat(81)]).is_err());
        assert!(Tags::new(&[" "]).is_err());
    }

    #[test]
    fn metadata_numbers_are_those_every_backend_keeps() {
        let extremes = serde_json::json!({"max": f64::MAX, "min": f64::MIN_POSITIVE, "tiny": 5e-324, "u": u64::MAX, "i": i64::MIN, "zero": 0.0});
        assert!(Metadata::new(extremes).is_ok());
        let negative_zero: Value = serde_json::from_str(r#"{"a": [{"b": -0.0}]}"#).unwrap();
        assert_eq!(Metadata::new(negative_zero).unwrap_err().field, "metadata");
        // serde_json reads `-0` as the double -0.0 too.
        let written_as_integer: Value = serde_json::from_str(r#"{"a": -0}"#).unwrap();
        assert!(Metadata::new(written_as_integer).is_err());
        assert!(Metadata::new(serde_json::json!({"a": 0})).is_ok());
        // What PostgreSQL prints for a stored f64::MAX reads back as f64::MAX.
        let printed = format!("17976931348623157{}", "0".repeat(292));
        assert_eq!(serde_json::from_str::<f64>(&printed).unwrap(), f64::MAX);
    }

    #[test]
    fn metadata_must_be_a_small_shallow_object() {
        assert!(Metadata::new(json!({"a": 1})).is_ok());
        assert!(Metadata::new(json!([1])).is_err());
        assert!(Metadata::new(json!("x")).is_err());
        let mut twelve = json!({});
        for _ in 0..11 {
            twelve = json!({ "n": twelve });
        }
        assert!(Metadata::new(twelve.clone()).is_ok());
        assert!(Metadata::new(json!({ "n": twelve })).is_err());
        let arrays = json!({ "a": [[[[[[[[[[[1]]]]]]]]]]] });
        assert_eq!(depth(&arrays), 12);
        // `{"a":"…"}` is 8 bytes around the string: 32,760 characters make exactly 32,768 bytes.
        assert!(Metadata::new(json!({ "a": "x".repeat(32_760) })).is_ok());
        assert!(Metadata::new(json!({ "a": "x".repeat(32_761) })).is_err());
    }

    #[test]
    fn slugs_are_checked_and_derived() {
        assert!(Slug::new("q3-launch").is_ok());
        for bad in ["", "Q3", "a--b", "-a", "a-", "a_b", "é"] {
            assert!(Slug::new(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(Slug::new("550e8400-e29b-41d4-a716-446655440000").is_err());
        let derive = |name: &str| Slug::derive_from(&ProjectName::new(name).unwrap()).0;
        assert_eq!(derive("Q3 launch!"), "q3-launch");
        assert_eq!(derive("  Legal -- Counsel  Project "), "legal-counsel-project");
        assert_eq!(derive("法律"), "project");
        assert_eq!(derive("550e8400-e29b-41d4-a716-446655440000"), "project-550e8400-e29b-41d4-a716-446655440000");
        assert!(derive(&"a".repeat(255)).len() <= 80);
        let base = Slug::new("q3-launch").unwrap();
        assert_eq!(base.with_suffix(2).as_str(), "q3-launch-2");
        let long = Slug::new(&"a".repeat(100)).unwrap();
        assert_eq!(long.with_suffix(12).as_str().len(), 100);
        assert!(Slug::new(long.with_suffix(12).as_str()).is_ok());
        let taken = ["q3-launch", "q3-launch-2", "q3-launch-4"];
        assert_eq!(base.first_free(|s| taken.contains(&s)).as_str(), "q3-launch-3");
        assert_eq!(base.first_free(|_| false), base);
    }

    #[test]
    fn new_project_reports_every_bad_field() {
        let errors = NewProject::validate(NewProjectInput {
            name: Some(" ".into()),
            emoji: Some("🙂".repeat(20)),
            slug: Some("Bad Slug".into()),
            ..Default::default()
        })
        .unwrap_err();
        let fields: Vec<&str> = errors.fields().keys().map(String::as_str).collect();
        assert_eq!(fields, ["emoji", "name", "slug"]);

        let missing = NewProject::validate(NewProjectInput::default()).unwrap_err();
        assert_eq!(missing.fields()["name"], "is required");

        let ok = NewProject::validate(NewProjectInput {
            name: Some("Legal Counsel Project".into()),
            description: Some("...".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(ok.name.as_str(), "Legal Counsel Project");
        assert!(ok.metadata.as_map().is_empty());
    }
}
