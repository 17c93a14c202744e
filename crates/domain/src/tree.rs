//! The tree of a workspace as rows valid over a range of revisions, and the pure rules that turn a
//! change (a few puts, deletes and moves, or a whole new tree) into the rows a revision ends and
//! the rows it adds. The store only ever sees that edit, so a write costs what it changes.
//!
//! Every ancestor of an entry is a directory entry too: explicit (written as a directory) or
//! implied (only there because something is below it, gone once nothing is). A listing is then
//! one index range over the rows of one parent.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::validation::FieldError;
use crate::workspace::{is_sha256, EntryKind, ManifestEntry, ManifestStats, WorkspacePath};

/// One entry of a revision's tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    pub path: WorkspacePath,
    pub kind: EntryKind,
    /// A directory only there because something is below it.
    pub implied: bool,
    pub size: u64,
    pub mtime_unix_ms: i64,
    /// Files: the lowercase hex SHA-256 of the content, the key of its blob.
    pub sha256: Option<String>,
    pub mode: Option<u32>,
    pub link_target: Option<String>,
}

impl TreeEntry {
    /// A directory implied by what is below it.
    pub fn implied_dir(path: WorkspacePath) -> Self {
        Self {
            path,
            kind: EntryKind::Dir,
            implied: true,
            size: 0,
            mtime_unix_ms: 0,
            sha256: None,
            mode: None,
            link_target: None,
        }
    }

    /// A file whose blob is `sha256`.
    pub fn file(path: WorkspacePath, sha256: String, size: u64, mtime_unix_ms: i64, mode: Option<u32>) -> Self {
        Self {
            path,
            kind: EntryKind::File,
            implied: false,
            size,
            mtime_unix_ms,
            sha256: Some(sha256),
            mode,
            link_target: None,
        }
    }

    pub fn is_dir(&self) -> bool {
        self.kind == EntryKind::Dir
    }

    /// Whether a diff shows it: files and symlinks are content, directories only hold them.
    pub fn is_content(&self) -> bool {
        self.kind != EntryKind::Dir
    }

    /// Same content for a diff: kind, bytes and link target (a new mtime or mode alone is no
    /// change a diff could show).
    pub fn same_content(&self, other: &TreeEntry) -> bool {
        self.kind == other.kind
            && self.sha256 == other.sha256
            && self.size == other.size
            && self.link_target == other.link_target
    }

    /// The same entry at another path (a move).
    fn moved_to(&self, path: WorkspacePath) -> Self {
        Self { path, ..self.clone() }
    }

    /// The Arkloop manifest form (implied directories are not written there).
    pub fn to_manifest_entry(&self) -> ManifestEntry {
        ManifestEntry {
            path: self.path.as_str().to_owned(),
            kind: self.kind,
            size: self.size,
            mtime_unix_ms: self.mtime_unix_ms,
            sha256: self.sha256.clone(),
            mode: self.mode,
            link_target: self.link_target.clone(),
            deleted: false,
        }
    }
}

/// Whether `raw` could be a revision id: 1–128 visible ASCII characters (this service makes 32
/// hex digits; manifests carried over may hold other ids). Anything else names no revision, and
/// is answered without a lookup.
pub fn is_revision_id(raw: &str) -> bool {
    (1..=128).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_graphic())
}

/// One change of a change set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeChange {
    /// A file (or symlink) at its path, replacing a file or an empty directory there.
    Put(TreeEntry),
    /// The entry at the path and everything below it (nothing there is no change).
    Delete(WorkspacePath),
    /// The entry at `from`, and everything below it, to `to`.
    Move { from: WorkspacePath, to: WorkspacePath },
}

/// Why a change cannot be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeError {
    /// It would put something below a file, replace a directory that is not empty, or move a
    /// directory into itself: a path problem (400).
    Conflict(String),
    /// The entries themselves are invalid (422 naming the field).
    Invalid(FieldError),
}

impl TreeError {
    fn invalid(message: String) -> Self {
        TreeError::Invalid(FieldError::new("entries", message))
    }
}

/// What a change set must see of the head before it can be planned: the entries at `paths`, the
/// entries at and below `subtrees`, and how many children each of `child_counts` has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeNeeds {
    pub paths: BTreeSet<WorkspacePath>,
    pub subtrees: BTreeSet<WorkspacePath>,
    pub child_counts: BTreeSet<WorkspacePath>,
}

impl TreeNeeds {
    /// What `changes` must see. Counts are only asked where a change could empty a directory
    /// (the ancestors of what it removes; never the root, which is no entry) or must know whether
    /// one is empty (where it puts something), so that a write never counts a big directory's
    /// children; see [`TreeNeeds::count_cap`].
    pub fn of(changes: &[TreeChange]) -> Self {
        let mut needs = Self::default();
        let with_ancestors = |needs: &mut Self, path: &WorkspacePath, count_them: bool| {
            needs.paths.insert(path.clone());
            let mut ancestor = path.parent();
            while let Some(dir) = ancestor.filter(|d| !d.is_root()) {
                if count_them {
                    needs.child_counts.insert(dir.clone());
                }
                needs.paths.insert(dir.clone());
                ancestor = dir.parent();
            }
        };
        for change in changes {
            match change {
                TreeChange::Put(entry) => {
                    with_ancestors(&mut needs, &entry.path, false);
                    needs.child_counts.insert(entry.path.clone());
                }
                TreeChange::Delete(path) => {
                    with_ancestors(&mut needs, path, true);
                    needs.subtrees.insert(path.clone());
                }
                TreeChange::Move { from, to } => {
                    with_ancestors(&mut needs, from, true);
                    with_ancestors(&mut needs, to, false);
                    needs.subtrees.insert(from.clone());
                    needs.child_counts.insert(to.clone());
                }
            }
        }
        needs
    }

    /// Counts may stop here: each change takes at most one direct child from any directory
    /// outside what it removes, so a directory with more children than there are changes
    /// cannot be emptied by them.
    pub fn count_cap(changes: &[TreeChange]) -> u64 {
        changes.len() as u64 + 1
    }
}

/// What a revision does to the rows of its base: the live rows at `ended` end, `added` begin.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeEdit {
    pub ended: Vec<WorkspacePath>,
    pub added: Vec<TreeEntry>,
    /// Files and symlinks whose content differs.
    pub files_changed: u64,
    /// The tree's totals after the edit, from the base's.
    pub stats: ManifestStats,
}

impl TreeEdit {
    /// The blobs the new rows reference, each once, in order.
    pub fn blobs(&self) -> Vec<String> {
        let blobs: BTreeSet<&String> = self.added.iter().filter_map(|e| e.sha256.as_ref()).collect();
        blobs.into_iter().cloned().collect()
    }

    /// From the state of each touched path before and after (both maps hold the same keys).
    fn between(
        before: &BTreeMap<WorkspacePath, Option<TreeEntry>>,
        after: &BTreeMap<WorkspacePath, Option<TreeEntry>>,
        base: ManifestStats,
    ) -> Self {
        let mut edit = TreeEdit { stats: base, ..Self::default() };
        for (path, new) in after {
            let old = before.get(path).cloned().flatten();
            if old.as_ref() == new.as_ref() {
                continue;
            }
            let content_changed = match (&old, new) {
                (Some(old), Some(new)) => (old.is_content() || new.is_content()) && !old.same_content(new),
                (Some(one), None) | (None, Some(one)) => one.is_content(),
                (None, None) => false,
            };
            edit.files_changed += u64::from(content_changed);
            if let Some(old) = old {
                edit.stats = counted(edit.stats, &old, false);
                edit.ended.push(path.clone());
            }
            if let Some(new) = new {
                edit.stats = counted(edit.stats, new, true);
                edit.added.push(new.clone());
            }
        }
        edit
    }
}

/// Totals with `entry` counted in (`add`) or out. Implied directories are not counted: the
/// manifest form does not list them.
fn counted(mut stats: ManifestStats, entry: &TreeEntry, add: bool) -> ManifestStats {
    let step = |n: u64, by: u64| if add { n.saturating_add(by) } else { n.saturating_sub(by) };
    match entry.kind {
        EntryKind::File => {
            stats.file_count = step(stats.file_count, 1);
            stats.total_bytes = step(stats.total_bytes, entry.size);
        }
        EntryKind::Dir if !entry.implied => stats.dir_count = step(stats.dir_count, 1),
        EntryKind::Dir | EntryKind::Symlink => {}
    }
    stats
}

/// The head as a change set sees it: what [`TreeNeeds`] asked for.
#[derive(Debug, Clone, Default)]
pub struct HeadView {
    pub entries: Vec<TreeEntry>,
    pub child_counts: HashMap<WorkspacePath, u64>,
    pub stats: ManifestStats,
}

/// The working state of a change set being planned.
struct Planner {
    before: BTreeMap<WorkspacePath, Option<TreeEntry>>,
    state: BTreeMap<WorkspacePath, Option<TreeEntry>>,
    child_counts: HashMap<WorkspacePath, u64>,
    /// Directories that lost a child: the only ones that may have become empty (their counts
    /// were asked for, or they were made within the change set).
    lost_children: BTreeSet<WorkspacePath>,
}

impl Planner {
    fn get(&self, path: &WorkspacePath) -> Option<&TreeEntry> {
        self.state.get(path).and_then(Option::as_ref)
    }

    fn set(&mut self, path: WorkspacePath, entry: Option<TreeEntry>) {
        self.before.entry(path.clone()).or_insert(None);
        self.state.insert(path, entry);
    }

    fn count(&mut self, dir: &WorkspacePath) -> &mut u64 {
        self.child_counts.entry(dir.clone()).or_insert(0)
    }

    fn remove(&mut self, path: &WorkspacePath) {
        if self.get(path).is_some() {
            if let Some(parent) = path.parent() {
                let count = self.count(&parent);
                *count = count.saturating_sub(1);
                self.lost_children.insert(parent);
            }
            self.set(path.clone(), None);
        }
    }

    /// Every ancestor of `path` a directory, made (implied) where missing.
    fn make_ancestors(&mut self, path: &WorkspacePath) -> Result<(), TreeError> {
        let mut ancestors = Vec::new();
        let mut ancestor = path.parent();
        while let Some(dir) = ancestor.filter(|d| !d.is_root()) {
            ancestor = dir.parent();
            ancestors.push(dir);
        }
        for dir in ancestors.into_iter().rev() {
            match self.get(&dir) {
                Some(entry) if entry.is_dir() => {}
                Some(_) => return Err(TreeError::Conflict(format!("{path} would be below {dir}, which is a file"))),
                None => self.place(TreeEntry::implied_dir(dir.clone())),
            }
        }
        Ok(())
    }

    /// Puts `entry` where nothing is now.
    fn place(&mut self, entry: TreeEntry) {
        if let Some(parent) = entry.path.parent() {
            *self.count(&parent) += 1;
        }
        self.child_counts.entry(entry.path.clone()).or_insert(0);
        self.set(entry.path.clone(), Some(entry));
    }

    fn put(&mut self, entry: TreeEntry) -> Result<(), TreeError> {
        self.make_ancestors(&entry.path)?;
        let path = entry.path.clone();
        if let Some(existing) = self.get(&path) {
            // A directory put where one is (an archive naming a directory the tree has) keeps
            // what is there.
            if entry.is_dir() && existing.is_dir() {
                return Ok(());
            }
            // An implied directory has children by definition.
            let full = existing.implied || self.child_counts.get(&path).copied().unwrap_or(0) > 0;
            if existing.is_dir() && full {
                return Err(TreeError::Conflict(format!("{path} is a directory that is not empty")));
            }
            self.remove(&path);
        }
        self.place(entry);
        Ok(())
    }

    /// The entry at `path` and everything below it, deepest first.
    fn subtree(&self, path: &WorkspacePath) -> Vec<TreeEntry> {
        let below = format!("{}/", path.as_str().trim_end_matches('/'));
        let mut found: Vec<TreeEntry> = self
            .state
            .iter()
            .filter(|(p, _)| *p == path || p.as_str().starts_with(&below))
            .filter_map(|(_, entry)| entry.clone())
            .collect();
        found.sort_by(|a, b| b.path.cmp(&a.path));
        found
    }

    fn delete(&mut self, path: &WorkspacePath) {
        for entry in self.subtree(path) {
            self.remove(&entry.path);
        }
    }

    fn move_to(&mut self, from: &WorkspacePath, to: &WorkspacePath) -> Result<(), TreeError> {
        if from == to {
            return Ok(());
        }
        if to.as_str().starts_with(&format!("{}/", from.as_str())) {
            return Err(TreeError::Conflict(format!("{from} cannot move into itself ({to})")));
        }
        let moved = self.subtree(from);
        let Some(top) = moved.last().filter(|top| &top.path == from).cloned() else {
            return Err(TreeError::Conflict(format!("{from} does not exist")));
        };
        if let Some(existing) = self.get(to) {
            if existing.is_dir() || top.is_dir() {
                return Err(TreeError::Conflict(format!("{to} exists already")));
            }
        }
        self.delete(from);
        self.put(top.moved_to(to.clone()))?;
        // Shallowest first, so that each lands in a directory already there.
        for entry in moved.iter().rev().filter(|e| &e.path != from) {
            let suffix = &entry.path.as_str()[from.as_str().len()..];
            let path = WorkspacePath::parse(&format!("{}{suffix}", to.as_str())).map_err(TreeError::Invalid)?;
            self.place(entry.moved_to(path));
        }
        Ok(())
    }

    /// Implied directories left with nothing below go, and then perhaps their parents.
    fn drop_empty_implied(&mut self) {
        loop {
            let empty: Vec<WorkspacePath> = self
                .lost_children
                .iter()
                .filter(|path| self.get(path).is_some_and(|e| e.implied))
                .filter(|path| self.child_counts.get(*path).copied().unwrap_or(0) == 0)
                .cloned()
                .collect();
            if empty.is_empty() {
                return;
            }
            for path in empty {
                self.remove(&path);
            }
        }
    }
}

/// Plans `changes` on the head seen through `view` (which holds what [`TreeNeeds::of`] asked
/// for): all of them, in order, or none.
pub fn plan_changes(view: HeadView, changes: &[TreeChange]) -> Result<TreeEdit, TreeError> {
    let before: BTreeMap<WorkspacePath, Option<TreeEntry>> =
        view.entries.into_iter().map(|entry| (entry.path.clone(), Some(entry))).collect();
    let mut planner =
        Planner { state: before.clone(), before, child_counts: view.child_counts, lost_children: BTreeSet::new() };
    for change in changes {
        match change {
            TreeChange::Put(entry) => planner.put(entry.clone())?,
            TreeChange::Delete(path) => planner.delete(path),
            TreeChange::Move { from, to } => planner.move_to(from, to)?,
        }
    }
    planner.drop_empty_implied();
    let Planner { before, state, .. } = planner;
    Ok(TreeEdit::between(&before, &state, view.stats))
}

/// Checks a whole tree as a snapshot or a manifest gives it (paths relative or absolute, each
/// once, files with a SHA-256, nothing below a file; entries marked deleted left out) and adds the
/// directories it implies.
pub fn build_tree(entries: Vec<ManifestEntry>) -> Result<Vec<TreeEntry>, TreeError> {
    let mut tree: BTreeMap<WorkspacePath, TreeEntry> = BTreeMap::new();
    for entry in entries.into_iter().filter(|entry| !entry.deleted) {
        let path = WorkspacePath::parse(&entry.path)
            .map_err(|e| TreeError::invalid(format!("{}: {}", entry.path, e.message)))?;
        if path.is_root() {
            return Err(TreeError::invalid(format!("{:?} names the root", entry.path)));
        }
        if entry.kind == EntryKind::File && !entry.sha256.as_deref().is_some_and(is_sha256) {
            return Err(TreeError::invalid(format!("{path} has no valid sha256")));
        }
        if entry.sha256.as_deref().is_some_and(|sha| !is_sha256(sha)) {
            return Err(TreeError::invalid(format!("{path} has an invalid sha256")));
        }
        match (&entry.kind, entry.link_target.as_deref()) {
            (EntryKind::Symlink, None) => {
                return Err(TreeError::invalid(format!("{path} is a symlink without link_target")))
            }
            (EntryKind::Symlink, Some(target)) => {
                if target.is_empty() || target.len() > WorkspacePath::MAX_BYTES || target.chars().any(char::is_control)
                {
                    return Err(TreeError::invalid(format!(
                        "{path}: link_target must be 1–{} bytes without control characters",
                        WorkspacePath::MAX_BYTES
                    )));
                }
            }
            (_, Some(_)) => return Err(TreeError::invalid(format!("{path}: only a symlink has a link_target"))),
            (_, None) => {}
        }
        if entry.size > i64::MAX as u64 {
            return Err(TreeError::invalid(format!("{path}: size is larger than {}", i64::MAX)));
        }
        let entry = TreeEntry {
            path: path.clone(),
            kind: entry.kind,
            implied: false,
            size: entry.size,
            mtime_unix_ms: entry.mtime_unix_ms,
            sha256: if entry.kind == EntryKind::File { entry.sha256 } else { None },
            mode: entry.mode,
            link_target: entry.link_target,
        };
        if tree.insert(path.clone(), entry).is_some() {
            return Err(TreeError::invalid(format!("{path} appears twice")));
        }
    }
    let mut implied = Vec::new();
    for path in tree.keys() {
        let mut ancestor = path.parent();
        while let Some(dir) = ancestor.filter(|d| !d.is_root()) {
            match tree.get(&dir) {
                Some(explicit) if !explicit.is_dir() => {
                    return Err(TreeError::invalid(format!("{path} is below {dir}, which is not a directory")));
                }
                Some(_) => break,
                None => implied.push(dir.clone()),
            }
            ancestor = dir.parent();
        }
    }
    for dir in implied {
        tree.entry(dir.clone()).or_insert_with(|| TreeEntry::implied_dir(dir));
    }
    Ok(tree.into_values().collect())
}

/// The edit that turns `current` (every entry of the head) into `desired` (a whole tree from
/// [`build_tree`]).
pub fn plan_replace(current: Vec<TreeEntry>, desired: Vec<TreeEntry>, base: ManifestStats) -> TreeEdit {
    let mut before: BTreeMap<WorkspacePath, Option<TreeEntry>> =
        current.into_iter().map(|entry| (entry.path.clone(), Some(entry))).collect();
    let mut after: BTreeMap<WorkspacePath, Option<TreeEntry>> =
        before.keys().map(|path| (path.clone(), None)).collect();
    for entry in desired {
        before.entry(entry.path.clone()).or_insert(None);
        after.insert(entry.path.clone(), Some(entry));
    }
    TreeEdit::between(&before, &after, base)
}

/// One version of an entry: the rows of revisions `valid_from ..` up to, not including,
/// `valid_to` (`None`: still live).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryVersion {
    pub entry: TreeEntry,
    pub valid_from: i64,
    pub valid_to: Option<i64>,
}

impl EntryVersion {
    pub fn visible_at(&self, seq: i64) -> bool {
        self.valid_from <= seq && self.valid_to.is_none_or(|to| to > seq)
    }
}

/// A path whose entry differs between two revisions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathChange {
    pub path: WorkspacePath,
    pub old: Option<TreeEntry>,
    pub new: Option<TreeEntry>,
}

/// Pairs the versions of each path (in path order, as the store gives them: the rows born or
/// ended between the two revisions) into what changed from revision `from` to `to`. Paths whose
/// entry is the same at both ends are left out.
pub fn pair_versions(versions: Vec<EntryVersion>, from: i64, to: i64) -> Vec<PathChange> {
    let mut changes: Vec<PathChange> = Vec::new();
    for version in versions {
        let at_from = version.visible_at(from);
        let at_to = version.visible_at(to);
        if !at_from && !at_to {
            continue;
        }
        if changes.last().is_none_or(|last| last.path != version.entry.path) {
            changes.push(PathChange { path: version.entry.path.clone(), old: None, new: None });
        }
        let Some(change) = changes.last_mut() else { continue };
        if at_from {
            change.old = Some(version.entry.clone());
        }
        if at_to {
            change.new = Some(version.entry);
        }
    }
    changes.retain(|change| change.old != change.new);
    changes
}

/// The edit that makes the head's tree equal to an older revision's, from what changed between
/// them (`pair_versions(…, head, old)`).
pub fn plan_restore(changes: Vec<PathChange>, base: ManifestStats) -> TreeEdit {
    let mut before = BTreeMap::new();
    let mut after = BTreeMap::new();
    for change in changes {
        before.insert(change.path.clone(), change.old);
        after.insert(change.path, change.new);
    }
    TreeEdit::between(&before, &after, base)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(raw: &str) -> WorkspacePath {
        WorkspacePath::parse(raw).unwrap()
    }

    fn file(raw: &str, content: &str) -> TreeEntry {
        TreeEntry::file(path(raw), content.repeat(64)[..64].to_owned(), content.len() as u64, 1, None)
    }

    /// A head of these files (and the directories they imply), seen whole.
    fn head(files: &[(&str, &str)]) -> HeadView {
        let entries = build_tree(files.iter().map(|(p, c)| file(p, c).to_manifest_entry()).collect()).unwrap();
        let mut child_counts: HashMap<WorkspacePath, u64> = HashMap::new();
        for entry in &entries {
            child_counts.entry(entry.path.clone()).or_insert(0);
            *child_counts.entry(entry.path.parent().unwrap()).or_insert(0) += 1;
        }
        let stats = entries.iter().fold(ManifestStats::default(), |s, e| counted(s, e, true));
        HeadView { entries, child_counts, stats }
    }

    fn paths(entries: &[TreeEntry]) -> Vec<&str> {
        entries.iter().map(|e| e.path.as_str()).collect()
    }

    #[test]
    fn a_put_adds_its_row_and_the_directories_it_implies() {
        let edit = plan_changes(head(&[]), &[TreeChange::Put(file("/a/b/c.txt", "c"))]).unwrap();
        assert_eq!(paths(&edit.added), ["/a", "/a/b", "/a/b/c.txt"]);
        assert!(edit.added[0].implied && edit.added[1].implied);
        assert!(edit.ended.is_empty());
        assert_eq!((edit.files_changed, edit.stats.file_count, edit.stats.total_bytes), (1, 1, 1));
    }

    #[test]
    fn a_put_over_a_file_ends_only_that_row() {
        let edit = plan_changes(head(&[("/a/x", "1"), ("/a/y", "2")]), &[TreeChange::Put(file("/a/x", "33"))]).unwrap();
        assert_eq!(edit.ended, [path("/a/x")]);
        assert_eq!(paths(&edit.added), ["/a/x"]);
        assert_eq!((edit.stats.file_count, edit.stats.total_bytes), (2, 3));
    }

    #[test]
    fn a_put_deep_in_a_tree_seen_only_along_its_path_keeps_every_directory() {
        // What the store gives a put: the entries on its path, and no counts of the ancestors.
        let mut view = head(&[("/a/b/c", "1"), ("/a/x", "2")]);
        view.entries.retain(|e| ["/a", "/a/b"].contains(&e.path.as_str()));
        view.child_counts.clear();
        let edit = plan_changes(view, &[TreeChange::Put(file("/a/b/d", "3"))]).unwrap();
        assert_eq!(paths(&edit.added), ["/a/b/d"]);
        assert!(edit.ended.is_empty(), "no directory of the path goes: {:?}", edit.ended);
    }

    #[test]
    fn asked_counts_skip_the_root_and_the_ancestors_of_puts() {
        let needs = TreeNeeds::of(&[TreeChange::Put(file("/a/b/c", "1")), TreeChange::Delete(path("/x/y"))]);
        let counted: Vec<&str> = needs.child_counts.iter().map(WorkspacePath::as_str).collect();
        assert_eq!(counted, ["/a/b/c", "/x"]);
    }

    #[test]
    fn nothing_goes_below_a_file_nor_over_a_full_directory() {
        let view = || head(&[("/a/x", "1")]);
        assert!(matches!(plan_changes(view(), &[TreeChange::Put(file("/a/x/y", "1"))]), Err(TreeError::Conflict(_))));
        assert!(matches!(plan_changes(view(), &[TreeChange::Put(file("/a", "1"))]), Err(TreeError::Conflict(_))));
    }

    #[test]
    fn deleting_the_last_file_of_implied_directories_removes_them_too() {
        let edit =
            plan_changes(head(&[("/a/b/c", "1"), ("/top", "2")]), &[TreeChange::Delete(path("/a/b/c"))]).unwrap();
        assert_eq!(edit.ended, [path("/a"), path("/a/b"), path("/a/b/c")]);
        assert!(edit.added.is_empty());
        let kept =
            plan_changes(head(&[("/a/b/c", "1"), ("/a/d", "2")]), &[TreeChange::Delete(path("/a/b/c"))]).unwrap();
        assert_eq!(kept.ended, [path("/a/b"), path("/a/b/c")], "/a still holds /a/d");
    }

    #[test]
    fn deleting_a_directory_deletes_what_is_below() {
        let edit =
            plan_changes(head(&[("/a/b/c", "1"), ("/a/d", "2"), ("/e", "3")]), &[TreeChange::Delete(path("/a"))])
                .unwrap();
        assert_eq!(edit.ended, [path("/a"), path("/a/b"), path("/a/b/c"), path("/a/d")]);
        assert_eq!((edit.files_changed, edit.stats.file_count), (2, 1));
    }

    #[test]
    fn moves_carry_a_subtree_and_refuse_to_climb_into_themselves() {
        let view = || head(&[("/src/a.rs", "1"), ("/src/lib/b.rs", "2")]);
        let edit = plan_changes(view(), &[TreeChange::Move { from: path("/src"), to: path("/app/code") }]).unwrap();
        assert_eq!(paths(&edit.added), ["/app", "/app/code", "/app/code/a.rs", "/app/code/lib", "/app/code/lib/b.rs"]);
        assert_eq!(edit.ended, [path("/src"), path("/src/a.rs"), path("/src/lib"), path("/src/lib/b.rs")]);
        assert!(edit.added[1].implied, "an implied directory stays implied");
        let into_itself = plan_changes(view(), &[TreeChange::Move { from: path("/src"), to: path("/src/x") }]);
        assert!(matches!(into_itself, Err(TreeError::Conflict(_))));
        let missing = plan_changes(view(), &[TreeChange::Move { from: path("/nope"), to: path("/x") }]);
        assert!(matches!(missing, Err(TreeError::Conflict(_))));
    }

    #[test]
    fn a_directory_moved_onto_itself_keeps_everything() {
        let edit =
            plan_changes(head(&[("/x/y/f", "1")]), &[TreeChange::Move { from: path("/x"), to: path("/x") }]).unwrap();
        assert!(edit.ended.is_empty() && edit.added.is_empty(), "{edit:?}");
    }

    #[test]
    fn a_change_set_applies_in_order_and_a_no_op_changes_nothing() {
        let changes = [
            TreeChange::Put(file("/tmp/x", "1")),
            TreeChange::Move { from: path("/tmp/x"), to: path("/y") },
            TreeChange::Delete(path("/never")),
        ];
        let edit = plan_changes(head(&[]), &changes).unwrap();
        assert_eq!(paths(&edit.added), ["/y"], "/tmp came and went within the set");
        assert_eq!(edit.files_changed, 1);
        let same = plan_changes(head(&[("/y", "1")]), &[TreeChange::Put(file("/y", "1"))]).unwrap();
        assert_eq!((same.files_changed, same.added.len()), (0, 0));
    }

    #[test]
    fn whole_trees_are_checked_and_replaced_by_difference() {
        let entry = |p: &str| ManifestEntry { path: p.to_owned(), ..file("/x", "1").to_manifest_entry() };
        let tree = build_tree(vec![entry("src/main.go"), entry("/README")]).unwrap();
        assert_eq!(paths(&tree), ["/README", "/src", "/src/main.go"]);
        for bad in
            [vec![entry("/a"), entry("a")], vec![entry("/a"), entry("/a/b")], vec![entry("../x")], vec![entry("/")]]
        {
            assert!(build_tree(bad).is_err());
        }
        let current = head(&[("/README", "1"), ("/old/x", "2")]);
        let edit = plan_replace(current.entries, tree, current.stats);
        assert_eq!(paths(&edit.added), ["/src", "/src/main.go"]);
        assert_eq!(edit.ended, [path("/old"), path("/old/x")]);
        assert_eq!((edit.files_changed, edit.stats.file_count), (2, 2));
    }

    #[test]
    fn versions_pair_into_changes_either_way() {
        let version = |p: &str, content: &str, from: i64, to: Option<i64>| EntryVersion {
            entry: file(p, content),
            valid_from: from,
            valid_to: to,
        };
        // /a modified at 3, /b added at 2, /c deleted at 4, /d changed at 2 and back at 3.
        let versions = vec![
            version("/a", "1", 1, Some(3)),
            version("/a", "2", 3, None),
            version("/b", "1", 2, None),
            version("/c", "1", 1, Some(4)),
            version("/d", "1", 1, Some(2)),
            version("/d", "2", 2, Some(3)),
            version("/d", "1", 3, None),
        ];
        let forward = pair_versions(versions.clone(), 1, 4);
        let summary: Vec<_> = forward.iter().map(|c| (c.path.as_str(), c.old.is_some(), c.new.is_some())).collect();
        assert_eq!(summary, [("/a", true, true), ("/b", false, true), ("/c", true, false)]);
        let backward = pair_versions(versions, 4, 1);
        assert_eq!(backward[1].path, path("/b"));
        assert_eq!((backward[1].old.is_some(), backward[1].new.is_some()), (true, false));
        let restore = plan_restore(backward, ManifestStats::default());
        assert_eq!(restore.ended, [path("/a"), path("/b")]);
        assert_eq!(paths(&restore.added), ["/a", "/c"]);
    }
}
