//! Workspace paths, entries and the Arkloop manifest form of a tree (see [`crate::tree`] for how
//! trees are stored and changed), and byte ranges of file reads.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::validation::FieldError;
use crate::Timestamp;

/// A validated absolute path inside a workspace, such as `/src/main.go`.
///
/// Parsing trims, joins onto the root, drops empty segments, `.` and a trailing slash, and
/// resolves `..`; a path that would climb above the root, that holds NUL or any other control
/// character, or a name ending in whitespace, is refused before any I/O happens.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WorkspacePath(String);

impl WorkspacePath {
    pub const MAX_BYTES: usize = 4_096;
    pub const MAX_SEGMENT_BYTES: usize = 255;

    pub fn root() -> Self {
        Self("/".to_owned())
    }

    /// `""`, `"."` and `"/"` all name the root.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let invalid = |why: &str| FieldError::new("path", why.to_owned());
        if raw.chars().any(char::is_control) {
            return Err(invalid("must not contain NUL or control characters"));
        }
        if raw.len() > Self::MAX_BYTES {
            return Err(invalid("is too long"));
        }
        let mut segments: Vec<&str> = Vec::new();
        for segment in raw.trim().split('/') {
            match segment {
                "" | "." => {}
                ".." => {
                    if segments.pop().is_none() {
                        return Err(invalid("must not leave the workspace root"));
                    }
                }
                segment if segment.len() > Self::MAX_SEGMENT_BYTES => {
                    return Err(invalid("has a name that is too long"))
                }
                // The input is trimmed, so a name ending in whitespace could not be named again.
                segment if segment.ends_with(char::is_whitespace) => {
                    return Err(invalid("has a name that ends with whitespace"))
                }
                segment => segments.push(segment),
            }
        }
        let path = format!("/{}", segments.join("/"));
        // Measured once joined onto the root: what is stored and read back is this.
        if path.len() > Self::MAX_BYTES {
            return Err(invalid("is too long"));
        }
        Ok(Self(path))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0 == "/"
    }

    /// The last segment (`""` for the root).
    pub fn name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or_default()
    }

    /// The directory holding this path (`None` for the root).
    pub fn parent(&self) -> Option<WorkspacePath> {
        if self.is_root() {
            return None;
        }
        let cut = self.0.rfind('/').unwrap_or(0);
        Some(if cut == 0 { Self::root() } else { Self(self.0[..cut].to_owned()) })
    }

    /// Where an archive member named `raw` lands when the archive is unpacked at this directory:
    /// `None` for a member naming the directory itself (`./`). A member may not be absolute nor
    /// climb above this directory (`a/../../b`), whatever the rest of the workspace holds, and
    /// its path follows the rules of any other path.
    pub fn member(&self, raw: &str) -> Result<Option<WorkspacePath>, FieldError> {
        let invalid = |why: &str| FieldError::new("path", format!("archive member {raw:?} {why}"));
        if raw.starts_with('/') {
            return Err(invalid("is absolute"));
        }
        let relative = Self::parse(raw).map_err(|_| invalid("is not a path inside the archive's directory"))?;
        if relative.is_root() {
            return Ok(None);
        }
        let joined = format!("{}{}", self.0.trim_end_matches('/'), relative.0);
        Self::parse(&joined).map(Some).map_err(|e| invalid(&e.message))
    }

    /// This path named relative to `dir` (`a/b` for `/src/a/b` in `/src`), when it lies below it.
    pub fn relative_to(&self, dir: &WorkspacePath) -> Option<&str> {
        if dir.is_root() {
            return self.0.strip_prefix('/').filter(|rest| !rest.is_empty());
        }
        self.0.strip_prefix(dir.as_str())?.strip_prefix('/').filter(|rest| !rest.is_empty())
    }
}

impl fmt::Display for WorkspacePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an entry of a tree is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::File => "file",
            EntryKind::Dir => "dir",
            EntryKind::Symlink => "symlink",
        }
    }
}

impl std::str::FromStr for EntryKind {
    type Err = FieldError;

    fn from_str(raw: &str) -> Result<Self, FieldError> {
        match raw {
            "file" => Ok(EntryKind::File),
            "dir" => Ok(EntryKind::Dir),
            "symlink" => Ok(EntryKind::Symlink),
            _ => Err(FieldError::new("type", "must be file, dir or symlink")),
        }
    }
}

/// One entry of a manifest, as Arkloop writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub path: String,
    #[serde(rename = "type")]
    pub kind: EntryKind,
    #[serde(default)]
    pub size: u64,
    #[serde(default)]
    pub mtime_unix_ms: i64,
    /// Lowercase hex SHA-256 of a file's content, the key of its blob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_target: Option<String>,
    /// In a snapshot: the entry is not part of the tree (a deletion sent alongside the rest).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

/// Totals of a manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ManifestStats {
    pub file_count: u64,
    pub dir_count: u64,
    pub total_bytes: u64,
}

/// An immutable snapshot of a workspace's tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    pub revision: String,
    #[serde(default)]
    pub base_revision: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
    pub entries: Vec<ManifestEntry>,
    #[serde(default)]
    pub stats: ManifestStats,
}

/// A lowercase hex SHA-256 digest, the key of a blob.
pub fn is_sha256(hex: &str) -> bool {
    crate::is_lower_hex(hex, 64)
}

/// One entry of a listing: a direct child of a directory, or an entry below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Child {
    pub name: String,
    pub path: WorkspacePath,
    pub kind: EntryKind,
    pub size: u64,
    pub mtime_unix_ms: i64,
    /// For directories: whether anything is below them.
    pub has_children: bool,
}

/// A `Range: bytes=…` request, resolved against a size only once the size is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// `a-b` (inclusive) or `a-` (`None`: to the end).
    From { start: u64, end: Option<u64> },
    /// `-n`: the last n bytes.
    Suffix(u64),
}

impl ByteRange {
    /// Parses a single range; `None` for anything else (several ranges, other units, nonsense),
    /// which callers answer with the whole body, as RFC 9110 allows.
    pub fn parse(header: &str) -> Option<Self> {
        let spec = header.trim().strip_prefix("bytes=")?.trim();
        if spec.contains(',') {
            return None;
        }
        let (start, end) = spec.split_once('-')?;
        let number = |s: &str| s.trim().parse::<u64>().ok();
        match (start.trim().is_empty(), end.trim().is_empty()) {
            (true, false) => number(end).map(ByteRange::Suffix),
            (false, true) => number(start).map(|start| ByteRange::From { start, end: None }),
            (false, false) => {
                let (start, end) = (number(start)?, number(end)?);
                (start <= end).then_some(ByteRange::From { start, end: Some(end) })
            }
            (true, true) => None,
        }
    }

    /// The half-open byte range within an object of `size` bytes; `None` when unsatisfiable.
    pub fn resolve(self, size: u64) -> Option<std::ops::Range<u64>> {
        match self {
            ByteRange::From { start, .. } if start >= size => None,
            ByteRange::From { start, end } => Some(start..end.map_or(size, |end| end.min(size - 1) + 1)),
            // An empty object has no last bytes to give (RFC 9110 §14.1.3).
            ByteRange::Suffix(0) => None,
            ByteRange::Suffix(_) if size == 0 => None,
            ByteRange::Suffix(n) => Some(size.saturating_sub(n)..size),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn archive_members_stay_inside_their_directory() {
        let src = super::WorkspacePath::parse("/src").unwrap();
        let member = |raw: &str| src.member(raw).map(|p| p.map(|p| p.as_str().to_owned()));
        assert_eq!(member("a/b.rs").unwrap().as_deref(), Some("/src/a/b.rs"));
        assert_eq!(member("./a/./b.rs").unwrap().as_deref(), Some("/src/a/b.rs"));
        assert_eq!(member("a/../b.rs").unwrap().as_deref(), Some("/src/b.rs"), "climbing within is fine");
        assert_eq!(member("./").unwrap(), None, "the directory itself");
        for escaping in ["../x", "a/../../x", "/etc/passwd", "..", "a\0b", "a\u{7f}"] {
            assert!(src.member(escaping).is_err(), "{escaping:?} is refused");
        }
        assert!(src.member(&"a/".repeat(2_100)).is_err(), "too long once joined");
        let root = super::WorkspacePath::root();
        assert_eq!(root.member("x/y").unwrap().unwrap().as_str(), "/x/y");
    }

    #[test]
    fn paths_name_themselves_relative_to_a_directory() {
        let path = super::WorkspacePath::parse("/src/a/b").unwrap();
        assert_eq!(path.relative_to(&super::WorkspacePath::parse("/src").unwrap()), Some("a/b"));
        assert_eq!(path.relative_to(&super::WorkspacePath::root()), Some("src/a/b"));
        assert_eq!(path.relative_to(&super::WorkspacePath::parse("/sr").unwrap()), None);
        assert_eq!(path.relative_to(&path), None);
    }

    use super::*;

    fn parse(raw: &str) -> Result<String, String> {
        WorkspacePath::parse(raw).map(|p| p.0).map_err(|e| e.message)
    }

    #[test]
    fn paths_are_cleaned_onto_the_root() {
        for (raw, clean) in [
            ("", "/"),
            (".", "/"),
            ("/", "/"),
            ("  /src  ", "/src"),
            ("src/main.go", "/src/main.go"),
            ("/src//main.go", "/src/main.go"),
            ("/src/./main.go", "/src/main.go"),
            ("/src/", "/src"),
            ("/src/lib/../main.go", "/src/main.go"),
            ("/a/b/../../c", "/c"),
            ("/名前/ファイル.txt", "/名前/ファイル.txt"),
            ("/%2e%2e/x", "/%2e%2e/x"),
        ] {
            assert_eq!(parse(raw), Ok(clean.to_owned()), "{raw:?}");
        }
    }

    #[test]
    fn traversal_and_control_characters_are_refused() {
        for raw in [
            "..",
            "../secret.txt",
            "/../secret.txt",
            "/src/../../etc/passwd",
            "/./../x",
            "a/b/../../..",
            "/src\0/x",
            "/src/\u{1}x",
            "/line\nbreak",
            "/tab\there",
            "/del\u{7f}",
        ] {
            assert!(parse(raw).is_err(), "{raw:?} should be refused");
        }
        assert!(parse(&format!("/{}", "a".repeat(256))).is_err());
        assert!(parse(&"/a".repeat(3_000)).is_err());
        // 4,096 bytes as given, 4,097 once joined onto the root.
        let mut segments = vec!["a".repeat(255); 15];
        segments.push("a".repeat(254));
        let relative = format!("{}/c", segments.join("/"));
        assert_eq!(relative.len(), 4_096);
        assert!(parse(&relative).is_err(), "too long once absolute");
        assert!(parse(&relative[1..]).is_ok());
    }

    #[test]
    fn names_and_parents() {
        let path = WorkspacePath::parse("/src/lib/x.rs").unwrap();
        assert_eq!(path.name(), "x.rs");
        assert_eq!(path.parent().unwrap().as_str(), "/src/lib");
        assert_eq!(WorkspacePath::parse("/top").unwrap().parent(), Some(WorkspacePath::root()));
        assert_eq!(WorkspacePath::root().parent(), None);
    }

    #[test]
    fn byte_ranges() {
        let range = |h: &str, size: u64| ByteRange::parse(h).and_then(|r| r.resolve(size));
        assert_eq!(range("bytes=0-4", 10), Some(0..5));
        assert_eq!(range("bytes=5-", 10), Some(5..10));
        assert_eq!(range("bytes=-3", 10), Some(7..10));
        assert_eq!(range("bytes=-30", 10), Some(0..10));
        assert_eq!(range("bytes=8-100", 10), Some(8..10));
        assert_eq!(ByteRange::parse("bytes=10-").unwrap().resolve(10), None, "unsatisfiable");
        assert_eq!(ByteRange::parse("bytes=-0").unwrap().resolve(10), None);
        for nonsense in ["bytes=5-2", "bytes=a-b", "items=0-1", "bytes=0-1,3-4", "bytes=-", "0-1"] {
            assert_eq!(ByteRange::parse(nonsense), None, "{nonsense}");
        }
    }

    #[test]
    fn manifests_read_arkloop_json() {
        let json = r#"{"version":1,"revision":"rev-2","base_revision":"rev-1","created_at":"2024-01-01T00:00:00Z",
            "entries":[{"path":"/src/main.go","type":"file","size":14,"mtime_unix_ms":1710000000000,
            "sha256":"abababababababababababababababababababababababababababababababab","mode":420}],
            "stats":{"file_count":1,"dir_count":0,"total_bytes":14}}"#;
        let manifest: Manifest = serde_json::from_str(json).unwrap();
        assert_eq!(manifest.entries[0].kind, EntryKind::File);
        assert_eq!(manifest.stats.total_bytes, 14);
        let tree = crate::build_tree(manifest.entries).unwrap();
        let paths: Vec<&str> = tree.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["/src", "/src/main.go"], "the directory it implies comes with it");
    }
}
