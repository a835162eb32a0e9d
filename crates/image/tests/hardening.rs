//! Issue 8 item 1: COPY/ADD sources resolve inside the build context, in both modes, for
//! `fromDockerfile` and `dockerfileCommands`; nothing outside it ends up in the context list.

use std::fs;
use std::path::{Path, PathBuf};

use daytona_image::{Image, ImageError};

struct Tree {
    _t: tempfile::TempDir,
    root: PathBuf,
    ctx: PathBuf,
}

fn tree() -> Tree {
    let t = tempfile::tempdir().unwrap();
    let root = fs::canonicalize(t.path()).unwrap();
    let ctx = root.join("ctx");
    fs::create_dir_all(ctx.join("etc")).unwrap();
    fs::create_dir_all(root.join("outside")).unwrap();
    fs::write(ctx.join("etc/hostname"), "from-the-context\n").unwrap();
    fs::write(ctx.join("a.txt"), "a").unwrap();
    fs::write(root.join("outside/secret.txt"), "secret").unwrap();
    std::os::unix::fs::symlink("../outside", ctx.join("out-dirlink")).unwrap();
    Tree { _t: t, root, ctx }
}

fn from_dockerfile(t: &Tree, body: &str, strict: bool) -> Result<Image, ImageError> {
    let df = t.ctx.join("Dockerfile");
    fs::write(&df, format!("FROM scratch\n{body}\n")).unwrap();
    Image::from_dockerfile(df.to_str().unwrap(), strict)
}

fn assert_inside(image: &Image, ctx: &Path) {
    assert!(!image.context_list().is_empty());
    for c in image.context_list() {
        let p = Path::new(&c.source_path);
        let abs = if p.is_absolute() { p.to_path_buf() } else { std::env::current_dir().unwrap().join(p) };
        assert!(abs.starts_with(ctx), "{} is outside {}", c.source_path, ctx.display());
        assert!(!c.archive_path.contains(".."), "{}", c.archive_path);
    }
}

#[test]
fn absolute_sources_outside_the_context_mean_paths_inside_it() {
    let t = tree();
    let ctx = t.ctx.to_str().unwrap();
    for body in [
        "COPY /etc/hostname /leak",
        "COPY /etc/ /leak/",
        "COPY / /x",
        "COPY [\"/etc/hostname\", \"/leak\"]",
        "COPY /etc/host* /leak/",
        "ADD /etc/hostname /leak",
        "COPY --chown=1:1 /etc/hostname /a.txt /leak/",
    ] {
        let image = from_dockerfile(&t, body, false).unwrap_or_else(|e| panic!("{body}: {e}"));
        assert_inside(&image, &t.ctx);
    }
    let image = from_dockerfile(&t, "COPY /etc/hostname /leak", false).unwrap();
    let c = &image.context_list()[0];
    assert_eq!((c.source_path.as_str(), c.archive_path.as_str()), (format!("{ctx}/etc/hostname").as_str(), "etc/hostname"));
    assert_eq!(c.boundary.as_deref(), Some(format!("{ctx}/").as_str()));
    // `/` is the context itself
    let image = from_dockerfile(&t, "COPY / /x", false).unwrap();
    assert_eq!(image.context_list()[0].source_path, ctx);
    assert_eq!(image.context_list()[0].archive_path, "");
    // an absolute source inside the context directory keeps the official spelling
    let inside = format!("{ctx}/a.txt");
    let image = from_dockerfile(&t, &format!("COPY {inside} /x"), false).unwrap();
    assert_eq!((image.context_list()[0].source_path.as_str(), image.context_list()[0].archive_path.as_str()), (inside.as_str(), inside.as_str()));
}

#[test]
fn dot_dot_escapes_are_rejected_naming_the_source() {
    let t = tree();
    for strict in [false, true] {
        for body in ["COPY ../../../etc/hostname /x", "COPY [\"../outside/secret.txt\", \"/x\"]", "COPY a.txt ../outside/* /x/", "COPY .. /x"] {
            let err = from_dockerfile(&t, body, strict).unwrap_err();
            let ImageError::InvalidArgument(msg) = err else { panic!("{body}: {err:?}") };
            if strict {
                assert!(msg.starts_with("forbidden path outside the build context: "), "{msg}");
            } else {
                assert!(msg.starts_with("COPY source ..") && msg.contains("outside the build context") && msg.contains("'..' cannot climb"), "{msg}");
            }
        }
    }
}

#[test]
fn symlinked_directories_leading_out_are_rejected_in_both_modes() {
    let t = tree();
    for body in ["COPY out-dirlink/secret.txt /x", "COPY out-dirlink/* /x/", "COPY out-dirlink/ /x/", "COPY [\"out-dirlink/missing\", \"/x\"]"] {
        let err = from_dockerfile(&t, body, false).unwrap_err();
        let ImageError::InvalidArgument(msg) = err else { panic!("{body}: {err:?}") };
        assert!(msg.contains("outside the build context") && msg.contains("symbolic link"), "{body}: {msg}");
        assert!(msg.contains(t.root.join("outside").to_str().unwrap()), "{body}: names where it leads: {msg}");
        assert!(from_dockerfile(&t, body, true).is_err(), "{body} strict");
    }
    // the link itself is fine: it is archived as a link
    assert_eq!(from_dockerfile(&t, "COPY out-dirlink /x", false).unwrap().context_list()[0].archive_path, "out-dirlink");
}

#[test]
fn dockerfile_commands_with_and_without_a_context_directory() {
    let t = tree();
    let ctx = t.ctx.to_str().unwrap();
    let mut image = Image::base("scratch");
    image.dockerfile_commands(&["COPY /etc/hostname /leak".into(), "COPY /etc/* /e/".into()], Some(ctx), false).unwrap();
    assert_inside(&image, &t.ctx);
    let err = Image::base("x").dockerfile_commands(&["COPY ../outside/secret.txt /x".into()], Some(ctx), false).unwrap_err();
    assert!(err.to_string().contains("COPY source ../outside/secret.txt is outside the build context"), "{err}");
    // No contextDir: the working directory is the context (the only test here that reads it).
    let cwd = std::env::current_dir().unwrap();
    let mut image = Image::base("scratch");
    image.dockerfile_commands(&["COPY /etc/hostname /leak".into()], None, false).unwrap();
    assert_eq!(image.context_list()[0].source_path, "etc/hostname");
    assert_eq!(image.context_list()[0].archive_path, "etc/hostname");
    assert_eq!(image.context_list()[0].boundary.as_deref(), Some("."));
    let err = Image::base("x").dockerfile_commands(&["COPY ../x /x".into()], None, false).unwrap_err();
    assert!(err.to_string().contains(cwd.to_str().unwrap()), "{err}");
}
