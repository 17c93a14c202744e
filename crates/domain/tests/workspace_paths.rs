//! Property tests of the workspace path rules (API.md), beside the table tests in the module: for
//! any input, a path is either refused or canonical and inside the root.

use projects_domain::workspace::WorkspacePath;
use proptest::prelude::*;

/// Segments that mean something to a path parser, mixed with ordinary names.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("..".to_owned()),
        Just(".".to_owned()),
        Just(String::new()),
        Just(" ".to_owned()),
        Just("...".to_owned()),
        Just("..\\..".to_owned()),
        Just("%2e%2e".to_owned()),
        "[a-zA-Z0-9_.-]{1,12}",
        "\\PC{1,8}",
    ]
}

fn raw_path() -> impl Strategy<Value = String> {
    (any::<bool>(), prop::collection::vec(segment(), 0..12), any::<bool>()).prop_map(|(leading, segments, trailing)| {
        let joined = segments.join("/");
        format!("{}{joined}{}", if leading { "/" } else { "" }, if trailing { "/" } else { "" })
    })
}

fn plain_name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_-][a-zA-Z0-9_.-]{0,11}".prop_filter("not a dot segment", |s| s != "." && s != "..")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// Whatever comes in, what comes out is absolute, canonical and parses to itself.
    #[test]
    fn accepted_paths_are_canonical(raw in raw_path()) {
        if let Ok(path) = WorkspacePath::parse(&raw) {
            let text = path.as_str();
            prop_assert!(text.starts_with('/'));
            prop_assert!(path.is_root() || !text.ends_with('/'));
            if !path.is_root() {
                for segment in text[1..].split('/') {
                    prop_assert!(!segment.is_empty() && segment != "." && segment != "..", "{text:?}");
                }
            }
            prop_assert!(!text.chars().any(char::is_control));
            prop_assert_eq!(WorkspacePath::parse(text), Ok(path.clone()));
        }
    }

    /// Any input with a control character (NUL included) is refused, wherever it sits.
    #[test]
    fn control_characters_are_refused_anywhere(raw in raw_path(), at in any::<prop::sample::Index>(), control in prop_oneof![0u32..0x20, 0x7fu32..0xa0]) {
        let mut chars: Vec<char> = raw.chars().collect();
        let position = if chars.is_empty() { 0 } else { at.index(chars.len() + 1) };
        chars.insert(position, char::from_u32(control).unwrap());
        let with_control: String = chars.into_iter().collect();
        prop_assert!(WorkspacePath::parse(&with_control).is_err(), "{with_control:?}");
    }

    /// `..` climbs one directory: up to the depth it resolves, one more leaves the root and is refused.
    #[test]
    fn climbing_stops_at_the_root(names in prop::collection::vec(plain_name(), 0..8), climbs in 0usize..10, tail in prop::option::of(plain_name())) {
        let mut raw = format!("/{}", names.join("/"));
        for _ in 0..climbs {
            raw.push_str("/..");
        }
        if let Some(tail) = &tail {
            raw.push('/');
            raw.push_str(tail);
        }
        let parsed = WorkspacePath::parse(&raw);
        if climbs > names.len() {
            prop_assert!(parsed.is_err(), "{raw:?} climbs above the root");
        } else {
            let mut kept: Vec<&str> = names[..names.len() - climbs].iter().map(String::as_str).collect();
            kept.extend(tail.as_deref());
            prop_assert_eq!(parsed.unwrap().as_str().to_owned(), format!("/{}", kept.join("/")));
        }
    }

    /// A parent is a prefix of its child, and the root has none.
    #[test]
    fn parents_are_prefixes(raw in raw_path()) {
        if let Ok(path) = WorkspacePath::parse(&raw) {
            match path.parent() {
                None => prop_assert!(path.is_root()),
                Some(parent) => {
                    prop_assert!(path.as_str().starts_with(parent.as_str()));
                    prop_assert!(path.as_str().ends_with(path.name()));
                    prop_assert_eq!(WorkspacePath::parse(&format!("{}/{}", parent, path.name())), Ok(path.clone()));
                }
            }
        }
    }
}

/// Payloads from traversal word lists, as they arrive after the one URL decoding the HTTP layer
/// does: each is refused, or stays a harmless literal name inside the root.
#[test]
fn traversal_corpus_never_leaves_the_root() {
    let refused = [
        "..",
        "../",
        "/..",
        "../../../../etc/passwd",
        "/../../../../etc/shadow",
        "./../x",
        "a/../../x",
        "/a/b/../../../x",
        "..//..//x",
        "/./././../x",
        "....//../..",
        " ../x",
        "../x ",
        "..\0/x",
        "/x\0.txt",
        "/x%00.txt\0",
        "\r\n../x",
        "/a\u{85}b",
        "/dir /x",
        "/ /x",
    ];
    for raw in refused {
        assert!(WorkspacePath::parse(raw).is_err(), "{raw:?} should be refused");
    }
    // Not traversal once decoded once: these are names, kept inside the root.
    let literal = [
        ("%2e%2e/x", "/%2e%2e/x"),
        ("..%2fx", "/..%2fx"),
        ("%252e%252e/x", "/%252e%252e/x"),
        ("..\\..\\windows", "/..\\..\\windows"),
        ("\u{ff0e}\u{ff0e}/x", "/\u{ff0e}\u{ff0e}/x"),
        ("....//x", "/..../x"),
        (".../x", "/.../x"),
        ("/a/./b/.", "/a/b"),
        ("a/b/..", "/a"),
    ];
    for (raw, clean) in literal {
        assert_eq!(WorkspacePath::parse(raw).map(|p| p.as_str().to_owned()), Ok(clean.to_owned()), "{raw:?}");
    }
}
