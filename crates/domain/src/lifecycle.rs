//! Changing projects after creation: validated patches, generated names, and exact money.

use std::fmt;
use std::str::FromStr;

use serde_json::Value;

use crate::project::{
    Description, Emoji, Metadata, Project, ProjectName, ProjectStatus, Prompt, Slug, Tags, Visibility,
};
use crate::validation::{FieldError, ValidationErrors};
use crate::Timestamp;

/// A PATCH field: `None` leaves it alone, `Some(None)` is an explicit `null`, `Some(Some(v))` sets it.
pub type Patch<T> = Option<Option<T>>;

/// The raw fields of a project update, as any surface received them.
#[derive(Debug, Clone, Default)]
pub struct ProjectPatchInput {
    pub name: Patch<String>,
    pub slug: Patch<String>,
    pub description: Patch<String>,
    pub prompt: Patch<String>,
    pub emoji: Patch<String>,
    pub status: Patch<ProjectStatus>,
    pub visibility: Patch<Visibility>,
    pub tags: Patch<Vec<String>>,
    pub metadata: Patch<Value>,
    /// A decimal string like a cost (`"25"`, `"0.5"`), or null for no budget.
    pub budget_usd: Patch<String>,
}

/// A validated update: each field is either left alone (`None`) or set to a valid value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectPatch {
    pub name: Option<ProjectName>,
    pub slug: Option<Slug>,
    pub description: Option<Option<Description>>,
    pub prompt: Option<Option<Prompt>>,
    pub emoji: Option<Option<Emoji>>,
    pub status: Option<ProjectStatus>,
    pub visibility: Option<Visibility>,
    pub tags: Option<Tags>,
    pub metadata: Option<Metadata>,
    pub budget: Option<Option<Usd>>,
}

fn required<T, U>(
    errors: &mut ValidationErrors,
    field: &'static str,
    value: Patch<T>,
    check: impl FnOnce(T) -> Result<U, FieldError>,
) -> Option<U> {
    match value? {
        None => {
            errors.add(FieldError::new(field, "must not be null"));
            None
        }
        Some(value) => errors.check(check(value)),
    }
}

fn nullable<T, U>(
    errors: &mut ValidationErrors,
    value: Patch<T>,
    check: impl FnOnce(T) -> Result<U, FieldError>,
) -> Option<Option<U>> {
    match value? {
        None => Some(None),
        Some(value) => errors.check(check(value)).map(Some),
    }
}

impl ProjectPatch {
    /// Validates every field present and reports all the bad ones together.
    pub fn validate(input: ProjectPatchInput) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let patch = ProjectPatch {
            name: required(&mut errors, "name", input.name, |v| ProjectName::new(&v)),
            slug: required(&mut errors, "slug", input.slug, |v| Slug::new(&v)),
            description: nullable(&mut errors, input.description, |v| Description::new(&v)),
            prompt: nullable(&mut errors, input.prompt, |v| Prompt::new(&v)),
            emoji: nullable(&mut errors, input.emoji, |v| Emoji::new(&v)),
            status: required(&mut errors, "status", input.status, Ok),
            visibility: required(&mut errors, "visibility", input.visibility, Ok),
            tags: required(&mut errors, "tags", input.tags, |v| Tags::new(&v)),
            metadata: required(&mut errors, "metadata", input.metadata, Metadata::new),
            budget: nullable(&mut errors, input.budget_usd, |v| {
                v.parse::<Usd>().map_err(|e| FieldError::new("budget_usd", e.message))
            }),
        };
        errors.into_result().map(|()| patch)
    }

    /// The names of the fields this patch sets, for the audit trail.
    pub fn fields(&self) -> Vec<&'static str> {
        [
            ("name", self.name.is_some()),
            ("slug", self.slug.is_some()),
            ("description", self.description.is_some()),
            ("prompt", self.prompt.is_some()),
            ("emoji", self.emoji.is_some()),
            ("status", self.status.is_some()),
            ("visibility", self.visibility.is_some()),
            ("tags", self.tags.is_some()),
            ("budget_usd", self.budget.is_some()),
            ("metadata", self.metadata.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
    }

    /// The project with this patch applied, one version later. Renaming keeps the slug: only an
    /// explicit slug changes it.
    pub fn apply(&self, project: &Project, now: Timestamp) -> Project {
        let mut next = project.clone();
        if let Some(name) = &self.name {
            next.name = name.clone();
        }
        if let Some(slug) = &self.slug {
            next.slug = slug.clone();
        }
        if let Some(description) = &self.description {
            next.description = description.clone();
        }
        if let Some(prompt) = &self.prompt {
            next.prompt = prompt.clone();
        }
        if let Some(emoji) = &self.emoji {
            next.emoji = emoji.clone();
        }
        if let Some(status) = self.status {
            next.status = status;
        }
        if let Some(visibility) = self.visibility {
            next.visibility = visibility;
        }
        if let Some(tags) = &self.tags {
            next.tags = tags.clone();
        }
        if let Some(metadata) = &self.metadata {
            next.metadata = metadata.clone();
        }
        if let Some(budget) = self.budget {
            next.budget = budget;
        }
        next.updated_at = now;
        next.version += 1;
        next
    }
}

impl ProjectName {
    /// The name given to a project whose name could not be generated.
    pub const UNTITLED: &'static str = "Untitled project";

    /// A short name taken from a description: its first line or sentence, at most 8 words and
    /// 60 characters; `Untitled project` when nothing usable is left.
    pub fn summarize(description: &str) -> ProjectName {
        const MAX_WORDS: usize = 8;
        const MAX_CHARS: usize = 60;
        let first = description
            .split(['\n', '.', '!', '?'])
            .map(str::trim)
            .find(|part| part.chars().any(char::is_alphanumeric))
            .unwrap_or_default();
        let mut name = String::new();
        for word in first.split_whitespace().take(MAX_WORDS) {
            let word: String = word.chars().filter(|c| !c.is_control()).collect();
            if name.chars().count() + word.chars().count() + 1 > MAX_CHARS {
                break;
            }
            if !name.is_empty() {
                name.push(' ');
            }
            name.push_str(&word);
        }
        let mut chars = name.chars();
        let capitalized: String = match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect(),
            None => String::new(),
        };
        ProjectName::new(&capitalized).unwrap_or_else(|_| ProjectName::untitled())
    }

    pub fn untitled() -> ProjectName {
        ProjectName::new(Self::UNTITLED).expect("a valid name")
    }
}

/// An exact amount of US dollars, in billionths (nano-dollars). Never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Usd(i128);

impl Usd {
    const SCALE: i128 = 1_000_000_000;
    const FRACTION_DIGITS: usize = 9;
    /// A single cost is below a billion dollars (it fits an i64 of nanos ten times over); sums are
    /// kept in 128 bits, so no number of records can overflow a project's spend.
    const MAX_WHOLE_DIGITS: usize = 9;
    pub const ZERO: Usd = Usd(0);

    pub const fn from_nanos(nanos: i128) -> Self {
        Usd(nanos)
    }

    pub const fn nanos(self) -> i128 {
        self.0
    }

    /// The nanos of one cost, which [`FromStr`] bounds below 10^18.
    pub fn cost_nanos(self) -> Option<i64> {
        i64::try_from(self.0).ok()
    }

    pub fn checked_add(self, other: Usd) -> Option<Usd> {
        self.0.checked_add(other.0).map(Usd)
    }
}

impl FromStr for Usd {
    type Err = FieldError;

    /// A non-negative decimal below a billion with at most 9 fractional digits, e.g. `0.0125`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || {
            FieldError::new(
                "cost_usd",
                "must be a non-negative decimal below 1000000000 with at most 9 fractional digits, like \"0.0125\"",
            )
        };
        let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
        let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || !digits(whole)
            || !digits(fraction)
            || fraction.len() > Self::FRACTION_DIGITS
            || whole.len() > Self::MAX_WHOLE_DIGITS
            || (s.contains('.') && fraction.is_empty())
        {
            return Err(invalid());
        }
        let whole: i128 = whole.parse().map_err(|_| invalid())?;
        let fraction: i128 = format!("{fraction:0<9}").parse().map_err(|_| invalid())?;
        whole.checked_mul(Self::SCALE).and_then(|w| w.checked_add(fraction)).map(Usd).ok_or_else(invalid)
    }
}

impl fmt::Display for Usd {
    /// The shortest exact decimal: `0`, `12.5`, `0.0125`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let (whole, fraction) = (abs / Self::SCALE as u128, abs % Self::SCALE as u128);
        if fraction == 0 {
            return write!(f, "{sign}{whole}");
        }
        let fraction = format!("{fraction:09}");
        write!(f, "{sign}{whole}.{}", fraction.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patches_validate_every_field_and_refuse_nulls_where_not_allowed() {
        let errors = ProjectPatch::validate(ProjectPatchInput {
            name: Some(None),
            status: Some(None),
            emoji: Some(Some("🙂".repeat(17))),
            metadata: Some(Some(json!([1]))),
            tags: Some(Some(vec!["x".repeat(81)])),
            ..Default::default()
        })
        .unwrap_err();
        let fields: Vec<&str> = errors.fields().keys().map(String::as_str).collect();
        assert_eq!(fields, ["emoji", "metadata", "name", "status", "tags"]);
        assert_eq!(errors.fields()["name"], "must not be null");

        let patch = ProjectPatch::validate(ProjectPatchInput {
            description: Some(None),
            prompt: Some(Some("Be brief.".into())),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(patch.fields(), ["description", "prompt"]);
        assert_eq!(patch.description, Some(None));
        assert!(ProjectPatch::validate(ProjectPatchInput::default()).unwrap().fields().is_empty());
    }

    #[test]
    fn names_are_summarized_from_descriptions() {
        assert_eq!(ProjectName::summarize("plan the q3 launch. then celebrate").as_str(), "Plan the q3 launch");
        assert_eq!(
            ProjectName::summarize("one two three four five six seven eight nine ten").as_str(),
            "One two three four five six seven eight"
        );
        assert_eq!(ProjectName::summarize("\n\n  ...  \n").as_str(), "Untitled project");
        assert_eq!(ProjectName::summarize("").as_str(), "Untitled project");
        assert_eq!(ProjectName::summarize(&"w".repeat(100)).as_str(), "Untitled project");
        assert_eq!(ProjectName::summarize("émigré budget review").as_str(), "Émigré budget review");
    }

    #[test]
    fn dollars_are_exact() {
        let cost: Usd = "0.0125".parse().unwrap();
        assert_eq!(cost.nanos(), 12_500_000);
        assert_eq!(cost.to_string(), "0.0125");
        assert_eq!("12".parse::<Usd>().unwrap().to_string(), "12");
        assert_eq!("0.000000001".parse::<Usd>().unwrap().nanos(), 1);
        let sum = (0..10).fold(Usd::ZERO, |sum, _| sum.checked_add("0.1".parse().unwrap()).unwrap());
        assert_eq!(sum.to_string(), "1", "no float drift");
        let largest: Usd = "999999999.999999999".parse().unwrap();
        let many = (0..1_000_000).try_fold(Usd::ZERO, |sum, _| sum.checked_add(largest)).unwrap();
        assert_eq!(many.to_string(), "999999999999999.999", "a million of the largest cost sum exactly");
        assert_eq!(largest.cost_nanos(), Some(999_999_999_999_999_999));
        for bad in ["", "-1", "1.", ".5", "1.0000000001", "1e3", "abc", "99999999999999999999", "1000000000"] {
            assert!(bad.parse::<Usd>().is_err(), "{bad:?} should be rejected");
        }
    }
}
