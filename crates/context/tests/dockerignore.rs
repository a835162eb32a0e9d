//! `.dockerignore` applied to a directory context, checked against Docker's semantics.

mod common;

use std::path::Path;

use common::*;
use daytona_context::{ContextError, ContextOptions, ContextSource, plan_context};

const ALL: [&str; 20] = [
    ".dockerignore",
    "a.log",
    "b.txt",
    "build/",
    "build/out.o",
    "build/sub/",
    "build/sub/x",
    "dir/",
    "dir/keep",
    "dir/other",
    "dir/sub/",
    "dir/sub/z",
    "keep.log",
    "root.tmp",
    "src/",
    "src/debug.log",
    "src/deep/",
    "src/deep/y.tmp",
    "src/main.rs",
    "src/x.tmp",
];

fn tree(root: &Path, dockerignore: &str) {
    for name in ALL {
        if name.ends_with('/') {
            mkdir(root, name);
        } else if name == ".dockerignore" {
            write(root, name, dockerignore.as_bytes());
        } else {
            write(root, name, name.as_bytes());
        }
    }
}

/// Entry names of the context (stored at the archive root) under the given `.dockerignore`;
/// also checks that the tar has exactly those entries.
fn names(dockerignore: &str) -> Vec<String> {
    let t = tempfile::tempdir().unwrap();
    tree(t.path(), dockerignore);
    let p = plan(t.path(), "");
    let names = p.entry_names();
    assert_eq!(tar_names(&archive(&p)), names);
    names
}

fn all_except(excluded: &[&str]) -> Vec<String> {
    for e in excluded {
        assert!(ALL.contains(e), "typo in test: {e}");
    }
    ALL.iter()
        .filter(|n| !excluded.contains(n))
        .map(|n| n.to_string())
        .collect()
}

#[test]
fn no_patterns_includes_everything() {
    assert_eq!(names(""), all_except(&[]));
    assert_eq!(names("# only a comment\n\n   \n"), all_except(&[]));
}

#[test]
fn star_does_not_cross_directories() {
    assert_eq!(names("*.log\n"), all_except(&["a.log", "keep.log"]));
    assert_eq!(names("*/*.log\n"), all_except(&["src/debug.log"]));
}

#[test]
fn directory_pattern_excludes_everything_below() {
    let want = all_except(&["build/", "build/out.o", "build/sub/", "build/sub/x"]);
    assert_eq!(names("build/\n"), want);
    assert_eq!(names("build\n"), want);
    assert_eq!(names("./build//\n"), want);
    assert_eq!(
        names("build/sub\n"),
        all_except(&["build/sub/", "build/sub/x"])
    );
}

#[test]
fn double_star_matches_any_depth() {
    assert_eq!(
        names("**/*.tmp\n"),
        all_except(&["root.tmp", "src/deep/y.tmp", "src/x.tmp"])
    );
    assert_eq!(
        names("src/**/*.tmp\n"),
        all_except(&["src/deep/y.tmp", "src/x.tmp"])
    );
    assert_eq!(
        names("src/**\n"),
        all_except(&[
            "src/debug.log",
            "src/deep/",
            "src/deep/y.tmp",
            "src/main.rs",
            "src/x.tmp"
        ])
    );
}

#[test]
fn exception_after_exclusion_reincludes_and_last_match_wins() {
    assert_eq!(names("*.log\n!keep.log\n"), all_except(&["a.log"]));
    assert_eq!(
        names("!keep.log\n*.log\n"),
        all_except(&["a.log", "keep.log"])
    );
    assert_eq!(names("*.log\n! keep.log\n"), all_except(&["a.log"]));
}

#[test]
fn exception_below_an_excluded_directory() {
    // Docker (BuildKit) walks into `dir` because an exception may match below it; `dir/` itself
    // is sent because something below it is.
    assert_eq!(
        names("dir\n!dir/keep\n"),
        all_except(&["dir/other", "dir/sub/", "dir/sub/z"])
    );
    assert_eq!(
        names("dir\n!dir/*/z\n"),
        all_except(&["dir/keep", "dir/other"])
    );
    assert_eq!(
        names("dir\n!**/z\n"),
        all_except(&["dir/keep", "dir/other"])
    );
    // Nothing matches below: the directory stays out entirely.
    assert_eq!(
        names("dir\n!dir/nothing\n"),
        all_except(&["dir/", "dir/keep", "dir/other", "dir/sub/", "dir/sub/z"])
    );
}

#[test]
fn comments_blank_lines_and_whitespace() {
    assert_eq!(
        names("# b.txt\n#b.txt\n\n  \nroot.tmp\n"),
        all_except(&["root.tmp"])
    );
    // Only a '#' in the first column starts a comment; trimmed lines are patterns.
    assert_eq!(names("   b.txt   \r\n"), all_except(&["b.txt"]));
    assert_eq!(names("\u{feff}b.txt\n"), all_except(&["b.txt"]));
}

#[test]
fn leading_slash_is_relative_to_the_context_root() {
    assert_eq!(
        names("/b.txt\n/src/main.rs\n"),
        all_except(&["b.txt", "src/main.rs"])
    );
    assert_eq!(names("/main.rs\n"), all_except(&[]));
    assert_eq!(names("../b.txt\n"), all_except(&[]));
}

#[test]
fn character_classes_and_escapes() {
    assert_eq!(names("[ab].*\n"), all_except(&["a.log", "b.txt"]));
    assert_eq!(names("[^a]???.log\n"), all_except(&["keep.log"]));
    assert_eq!(names("?.log\n"), all_except(&["a.log"]));
    assert_eq!(names("b\\.txt\n"), all_except(&["b.txt"]));
}

#[test]
fn root_dockerignore_is_always_sent() {
    assert_eq!(names(".dockerignore\n"), all_except(&[]));
    assert_eq!(
        names("*\n!src\n"),
        vec![
            ".dockerignore".to_string(),
            "src/".into(),
            "src/debug.log".into(),
            "src/deep/".into(),
            "src/deep/y.tmp".into(),
            "src/main.rs".into(),
            "src/x.tmp".into(),
        ]
    );
}

#[test]
fn ignored_files_do_not_affect_the_key() {
    let t = tempfile::tempdir().unwrap();
    tree(t.path(), "*.log\nbuild\n");
    let k = key(t.path(), "");
    write(t.path(), "a.log", b"changed, but ignored");
    write(t.path(), "build/new", b"also ignored");
    assert_eq!(key(t.path(), ""), k);
    write(t.path(), "b.txt", b"not ignored");
    assert_ne!(key(t.path(), ""), k);
}

#[test]
fn dockerignore_can_be_disabled_and_only_applies_at_the_root() {
    let t = tempfile::tempdir().unwrap();
    tree(t.path(), "*.log\n");
    let opts = ContextOptions {
        dockerignore: false,
        ..ContextOptions::default()
    };
    let p = plan_context(&ContextSource::new(t.path(), ""), &opts).unwrap();
    assert_eq!(p.entry_names(), all_except(&[]));

    // A .dockerignore in a subdirectory is an ordinary file of the context.
    write(t.path(), "src/.dockerignore", b"*\n");
    let p = plan(t.path(), "");
    let names = p.entry_names();
    assert!(names.contains(&"src/.dockerignore".to_string()));
    assert!(names.contains(&"src/main.rs".to_string()));
    assert!(!names.contains(&"a.log".to_string()));
    // A nested context directory's own .dockerignore does apply to it.
    let p = plan(&t.path().join("src"), "");
    assert_eq!(p.entry_names(), [".dockerignore"]);
}

#[test]
fn malformed_pattern_is_an_error() {
    let t = tempfile::tempdir().unwrap();
    tree(t.path(), "ok\n[unclosed\n");
    let err = plan_context(
        &ContextSource::new(t.path(), ""),
        &ContextOptions::default(),
    )
    .unwrap_err();
    match err {
        ContextError::BadIgnorePattern { pattern, path, .. } => {
            assert_eq!(pattern, "[unclosed");
            assert!(path.ends_with(".dockerignore"));
        }
        other => panic!("unexpected {other:?}"),
    }
}
