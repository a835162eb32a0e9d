//! Build logs: each build the server runs writes its lines into a [`BuildLog`]; the build-logs
//! URL serves them as text, and with `follow=true` keeps the response open and streams lines as
//! the build writes them, until it ends.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use tokio::sync::watch;

use crate::http::{self, Resp};

/// Logs kept for builds that ended (the SDK may ask for them after the build).
const KEEP: usize = 256;

pub(crate) struct BuildLog {
    text: Mutex<(Vec<u8>, bool)>,
    changed: watch::Sender<u64>,
}

impl BuildLog {
    pub fn new() -> Arc<BuildLog> {
        Arc::new(BuildLog { text: Mutex::new((Vec::new(), false)), changed: watch::channel(0).0 })
    }

    pub fn append(&self, line: &str) {
        let mut t = self.text.lock().unwrap_or_else(|e| e.into_inner());
        t.0.extend_from_slice(line.trim_end_matches(['\r', '\n']).as_bytes());
        t.0.push(b'\n');
        drop(t);
        self.changed.send_modify(|v| *v += 1);
    }

    pub fn finish(&self) {
        self.text.lock().unwrap_or_else(|e| e.into_inner()).1 = true;
        self.changed.send_modify(|v| *v += 1);
    }

    /// What follows byte `from`, and whether the log is complete.
    fn read_from(&self, from: usize) -> (Bytes, bool) {
        let t = self.text.lock().unwrap_or_else(|e| e.into_inner());
        (Bytes::copy_from_slice(&t.0[from.min(t.0.len())..]), t.1)
    }
}

/// The logs of the builds of this server, by sandbox (or snapshot) id and name.
#[derive(Default)]
pub(crate) struct LogRegistry {
    logs: Mutex<(HashMap<String, Arc<BuildLog>>, VecDeque<String>)>,
}

impl LogRegistry {
    pub fn insert(&self, keys: &[&str], log: Arc<BuildLog>) {
        let mut l = self.logs.lock().unwrap_or_else(|e| e.into_inner());
        for k in keys {
            l.0.insert(k.to_string(), log.clone());
            l.1.push_back(k.to_string());
        }
        while l.1.len() > KEEP {
            if let Some(old) = l.1.pop_front() {
                l.0.remove(&old);
            }
        }
    }

    pub fn get(&self, key: &str) -> Option<Arc<BuildLog>> {
        self.logs.lock().unwrap_or_else(|e| e.into_inner()).0.get(key).cloned()
    }
}

/// The log as `text/plain`: what there is, or with `follow` everything until the build ends.
pub(crate) fn serve(log: Arc<BuildLog>, follow: bool) -> Resp {
    let changes = log.changed.subscribe();
    let stream = futures_util::stream::unfold((0usize, false, changes), move |(pos, ended, mut changes)| {
        let log = log.clone();
        async move {
            if ended {
                return None;
            }
            loop {
                changes.borrow_and_update();
                let (chunk, done) = log.read_from(pos);
                if !chunk.is_empty() {
                    let next = pos + chunk.len();
                    return Some((Ok::<_, std::io::Error>(hyper::body::Frame::data(chunk)), (next, !follow, changes)));
                }
                if done || !follow {
                    return None;
                }
                if changes.changed().await.is_err() {
                    return None;
                }
            }
        }
    });
    hyper::Response::builder()
        .status(200)
        .header(hyper::header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .header(hyper::header::CACHE_CONTROL, "no-cache")
        .body(StreamBody::new(stream).boxed_unsync())
        .unwrap_or_else(|_| hyper::Response::new(http::empty()))
}
