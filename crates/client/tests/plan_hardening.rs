//! Issue 8 items 1, 13 and 14 at `plan_image`, the step both backends run before anything is
//! uploaded or built.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use daytona_client::ErrorKind;
use daytona_client::plan::plan_image;
use daytona_context::ContextOptions;
use daytona_image::Image;

fn root() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let root = fs::canonicalize(t.path()).unwrap();
    (t, root)
}

fn write(p: &Path, content: &str) {
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, content).unwrap();
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Item 1: a Dockerfile naming host paths plans only files of its own directory.
#[test]
fn host_paths_in_a_dockerfile_plan_only_files_of_the_context() {
    let (_t, root) = root();
    let ctx = root.join("ctx");
    write(&ctx.join("etc/hostname"), "from-the-context\n");
    write(&ctx.join("Dockerfile"), "FROM scratch\nCOPY /etc/hostname /leak\nCOPY [\"/etc/\", \"/leak-dir/\"]\nCOPY /etc/host* /g/\n");
    let image = Image::from_dockerfile(s(&ctx.join("Dockerfile")), false).unwrap();
    let plan = plan_image(&image, &ContextOptions::default()).unwrap();
    assert!(!plan.contexts.is_empty());
    for c in &plan.contexts {
        assert!(c.source_path.starts_with(&ctx), "{} outside {}", c.source_path.display(), ctx.display());
        assert_eq!(c.bytes % "from-the-context\n".len() as u64, 0);
    }
    // A directory swapped for a link out of the context after the Image was made is refused
    // when planning, before anything is read through it.
    write(&root.join("outside/hostname"), "HOST\n");
    fs::remove_dir_all(ctx.join("etc")).unwrap();
    symlink("../outside", ctx.join("etc")).unwrap();
    let err = plan_image(&image, &ContextOptions::default()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidArgument, "{}", err.message);
    assert!(err.message.contains("outside the build context"), "{}", err.message);
}

/// Item 13: two contexts with different content at one archive path.
#[test]
fn two_contexts_at_one_archive_path_are_rejected() {
    let (_t, root) = root();
    write(&root.join("one/src/a.txt"), "one");
    write(&root.join("two/src/a.txt"), "two");
    write(&root.join("three/src/a.txt"), "one");
    let mut image = Image::base("scratch");
    image.dockerfile_commands(&["COPY src /one".into()], Some(s(&root.join("one"))), false).unwrap();
    image.dockerfile_commands(&["COPY src /two".into()], Some(s(&root.join("two"))), false).unwrap();
    let err = plan_image(&image, &ContextOptions::default()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidArgument);
    for part in [s(&root.join("one/src")), s(&root.join("two/src")), "both go to src of the build context"] {
        assert!(err.message.contains(part), "{part:?} not in {}", err.message);
    }
    // The same content under two names is one context, not a conflict.
    let mut same = Image::base("scratch");
    same.dockerfile_commands(&["COPY src /one".into()], Some(s(&root.join("one"))), false).unwrap();
    same.dockerfile_commands(&["COPY src /three".into()], Some(s(&root.join("three"))), false).unwrap();
    assert_eq!(plan_image(&same, &ContextOptions::default()).unwrap().contexts.len(), 2);
}

/// Item 14: a linked addLocalDir/addLocalFile path is followed; links below it stay links.
#[test]
fn linked_local_paths_are_followed_one_level() {
    let (_t, root) = root();
    write(&root.join("real/x.txt"), "x");
    write(&root.join("secret.txt"), "secret");
    symlink(root.join("secret.txt"), root.join("real/nested")).unwrap();
    symlink("real", root.join("dirlink")).unwrap();
    symlink("real/x.txt", root.join("filelink")).unwrap();
    let mut image = Image::base("scratch");
    image.add_local_dir(s(&root.join("dirlink")), "/app", true).unwrap();
    image.add_local_file(s(&root.join("filelink")), "/x.txt").unwrap();
    let plan = plan_image(&image, &ContextOptions::default()).unwrap();
    let dir = &plan.contexts[0];
    let prefix = s(&root.join("dirlink"))[1..].to_string();
    assert_eq!(dir.entry_names(), [format!("{prefix}/"), format!("{prefix}/nested"), format!("{prefix}/x.txt")]);
    assert_eq!((dir.files, dir.bytes), (1, 1), "the nested link is not followed");
    let file = &plan.contexts[1];
    assert_eq!((file.files, file.bytes), (1, 1));
}
