#![allow(dead_code)]

use std::fs;
use std::io::Read;
use std::path::Path;

use daytona_context::{ContextOptions, ContextPlan, ContextSource, plan_context};

pub fn write(root: &Path, rel: &str, content: &[u8]) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, content).unwrap();
}

pub fn mkdir(root: &Path, rel: &str) {
    fs::create_dir_all(root.join(rel)).unwrap();
}

pub fn symlink(root: &Path, rel: &str, target: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(target, p).unwrap();
}

pub fn chmod(root: &Path, rel: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(root.join(rel), fs::Permissions::from_mode(mode)).unwrap();
}

pub fn plan(path: &Path, archive: &str) -> ContextPlan {
    plan_context(
        &ContextSource::new(path, archive),
        &ContextOptions::default(),
    )
    .unwrap()
}

pub fn key(path: &Path, archive: &str) -> String {
    plan(path, archive).key
}

pub fn archive(plan: &ContextPlan) -> Vec<u8> {
    plan.write_archive(Vec::new()).unwrap()
}

#[derive(Debug, Clone)]
pub struct TarEntry {
    pub name: String,
    pub kind: tar::EntryType,
    pub mode: u32,
    pub mtime: u64,
    pub uid: u64,
    pub gid: u64,
    pub uname: Vec<u8>,
    pub gname: Vec<u8>,
    pub size: u64,
    pub link: Option<String>,
    pub data: Vec<u8>,
}

pub fn read_tar(bytes: &[u8]) -> Vec<TarEntry> {
    let mut ar = tar::Archive::new(bytes);
    let mut out = Vec::new();
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let h = e.header().clone();
        let name = String::from_utf8_lossy(&e.path_bytes()).into_owned();
        let link = e
            .link_name_bytes()
            .map(|l| String::from_utf8_lossy(&l).into_owned());
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        out.push(TarEntry {
            name,
            kind: h.entry_type(),
            mode: h.mode().unwrap(),
            mtime: h.mtime().unwrap(),
            uid: h.uid().unwrap(),
            gid: h.gid().unwrap(),
            uname: h.username_bytes().unwrap_or_default().to_vec(),
            gname: h.groupname_bytes().unwrap_or_default().to_vec(),
            size: h.size().unwrap(),
            link,
            data,
        });
    }
    out
}

pub fn tar_names(bytes: &[u8]) -> Vec<String> {
    read_tar(bytes).into_iter().map(|e| e.name).collect()
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
