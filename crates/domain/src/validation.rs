//! Validation failures, collected per field so that a caller learns about every bad field at once.

use std::collections::BTreeMap;
use std::fmt;

/// Exactly `len` lowercase hex digits (SHA-256 digests, key secrets, trace ids).
/// Text that will be stored or searched for: PostgreSQL's text and jsonb cannot hold NUL, so it is
/// refused everywhere, on every backend, naming the field.
pub fn without_nul<'a>(field: &str, text: &'a str) -> Result<&'a str, FieldError> {
    if text.contains('\0') {
        Err(FieldError::new(field, "must not contain NUL characters"))
    } else {
        Ok(text)
    }
}

pub fn is_lower_hex(value: &str, len: usize) -> bool {
    value.len() == len && value.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// One field that failed validation, with a message naming the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

/// Every field error of one request, keyed by field name (the first message per field wins).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationErrors {
    fields: BTreeMap<String, String>,
}

impl ValidationErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn single(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(FieldError::new(field, message));
        errors
    }

    pub fn add(&mut self, error: FieldError) {
        self.fields.entry(error.field).or_insert(error.message);
    }

    /// Keeps the value when `result` is Ok, records the error otherwise.
    pub fn check<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.add(error);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    pub fn fields(&self) -> &BTreeMap<String, String> {
        &self.fields
    }

    /// `Ok(())` when nothing was recorded.
    pub fn into_result(self) -> Result<(), Self> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }
}

impl From<FieldError> for ValidationErrors {
    fn from(error: FieldError) -> Self {
        let mut errors = Self::new();
        errors.add(error);
        errors
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (field, message) in &self.fields {
            if !first {
                f.write_str("; ")?;
            }
            first = false;
            write!(f, "{field}: {message}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}
