//! Schemas the derive cannot say: free-form objects, constrained array items, raw bytes. Each
//! states exactly what the server accepts, so generated clients and schemathesis agree with it.

use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, KnownFormat, ObjectBuilder, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{Array, Object, RefOr, Schema};

fn free_form(types: &[Type]) -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter(types.iter().cloned()))
        .additional_properties(Some(AdditionalProperties::FreeForm(true)))
        .property_names(Some(ObjectBuilder::new().schema_type(Type::String).pattern(Some(NO_NUL))))
        .build()
}

/// Any JSON object (`metadata`); no key or string in it may hold NUL, which JSON Schema cannot
/// say of every nested string, so only the keys carry the pattern. Numbers are kept exactly
/// (doubles and 64-bit integers), except -0.0, which jsonb cannot keep (refused).
pub fn object() -> Object {
    free_form(&[Type::Object])
}

/// Any JSON object, or null.
pub fn object_or_null() -> Object {
    free_form(&[Type::Object, Type::Null])
}

fn tag_list(types: &[Type]) -> Array {
    let tag = ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(80))
        .pattern(Some(NOT_BLANK_NO_NUL));
    ArrayBuilder::new().schema_type(SchemaType::from_iter(types.iter().cloned())).items(tag).max_items(Some(30)).build()
}

/// Stored text never holds NUL (PostgreSQL cannot keep it).
const NO_NUL: &str = "^[^\\x00]*$";

/// No NUL, and something besides whitespace. The class is exactly Unicode's White_Space, what
/// the server trims (Rust's `str::trim`), spelled out because `\\s` differs between ECMAScript,
/// Python and Rust (U+0085, U+FEFF, U+001C–U+001F).
const NOT_BLANK_NO_NUL: &str = "^[^\\x00]*[^\\x00\\t\\n\\x0B\\x0C\\r \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000][^\\x00]*$";

/// Up to 30 tags of 1–80 characters.
pub fn tags() -> Array {
    tag_list(&[Type::Array])
}

/// Up to 30 tags of 1–80 characters, or null.
pub fn tags_or_null() -> Array {
    tag_list(&[Type::Array, Type::Null])
}

fn one_of(types: &[Type], values: &[&str]) -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter(types.iter().cloned()))
        .enum_values(Some(values.to_vec()))
        .build()
}

/// `shell` or `browser`.
pub fn session_type() -> Object {
    one_of(&[Type::String], &["shell", "browser"])
}

/// `ready`, `busy`, or null.
pub fn session_state_or_null() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some([Some("ready"), Some("busy"), None]))
        .build()
}

/// `file`, `dir` or `symlink`.
pub fn entry_kind() -> Object {
    one_of(&[Type::String], &["file", "dir", "symlink"])
}

/// A list of permission names, as the domain's table spells them.
pub fn permission_names() -> Array {
    let names = projects_domain::Permission::ALL.map(projects_domain::Permission::as_str);
    ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::String).enum_values(Some(names))).build()
}

/// A body of raw bytes, for `body = inline(Bytes)` in path attributes.
pub struct Bytes;

impl utoipa::PartialSchema for Bytes {
    fn schema() -> RefOr<Schema> {
        let binary = SchemaFormat::KnownFormat(KnownFormat::Binary);
        ObjectBuilder::new().schema_type(Type::String).format(Some(binary)).into()
    }
}

impl utoipa::ToSchema for Bytes {}
