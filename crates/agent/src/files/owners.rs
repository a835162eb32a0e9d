//! Owner and group names for `POST /files/permissions`, read from /etc/passwd and /etc/group
//! directly: the agent is static glibc, where NSS lookups (getpwnam) must not be used.

/// uid of `user`: a number as is, else the name's entry in /etc/passwd.
pub fn uid(user: &str) -> Option<u32> {
    id(user, "/etc/passwd", 2)
}

/// gid of `group`: a number as is, else the name's entry in /etc/group.
pub fn gid(group: &str) -> Option<u32> {
    id(group, "/etc/group", 2)
}

fn id(name: &str, file: &str, field: usize) -> Option<u32> {
    if let Ok(n) = name.parse::<u32>() {
        return Some(n);
    }
    let text = std::fs::read_to_string(file).ok()?;
    lookup(&text, name, field)
}

/// `name:x:id:...` lines; the first entry with that name wins.
fn lookup(text: &str, name: &str, field: usize) -> Option<u32> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.first() == Some(&name))
        .and_then(|f| f.get(field)?.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_entries() {
        let passwd = "# c\nroot:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n";
        assert_eq!(super::lookup(passwd, "nobody", 2), Some(65534));
        assert_eq!(super::lookup(passwd, "ghost", 2), None);
        assert_eq!(super::uid("123"), Some(123));
    }
}
