//! Build progress as typed events, carried next to the log lines ([`crate::logs::Logs::event`]),
//! and the parser that derives step events from the classic builder's output ("Step 2/5 : RUN
//! ...", " ---> Using cache", "The command '...' returned a non-zero code: 3"). The local
//! engine's build stream and the Daytona API's build log both speak that format.

use std::time::Instant;

/// One context of a build, as planned (walked, filtered and hashed).
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedContext {
    /// The context's cache key (64 hex digits): its object name on the API backend.
    pub key: String,
    pub source_path: String,
    pub files: u64,
    pub bytes: u64,
}

/// What a build reports while it runs. Steps are numbered from 1, as the builder prints them.
#[derive(Debug, Clone, PartialEq)]
pub enum BuildEvent {
    /// The build contexts were planned: `files` and `bytes` in all, one entry per distinct context.
    ContextPlanned { files: u64, bytes: u64, keys: Vec<String>, contexts: Vec<PlannedContext> },
    /// Bytes of one context archive sent to object storage (API backend), `bytes_sent` of
    /// `total_bytes`; a context already stored is reported once, sent in full, with `skipped`.
    UploadProgress { key: String, bytes_sent: u64, total_bytes: u64, skipped: bool },
    StepStarted { index: u32, total: u32, instruction: String },
    /// The step's result came from the builder's cache.
    StepCached { index: u32 },
    StepFinished { index: u32, duration_ms: f64 },
    /// A line of build output (delivered to the string log callback too), with its step.
    Log { line: String, step: Option<u32> },
    /// `image`: the built image or snapshot reference when known; `cached`: nothing was built
    /// (an image from an earlier identical build was used).
    BuildFinished { duration_ms: f64, image: Option<String>, cached: bool },
    /// `step`: the failing step, `exit_code`: its command's exit code, when known.
    BuildFailed { step: Option<u32>, exit_code: Option<i64>, message: String },
}

impl BuildEvent {
    /// The `type` of the JavaScript object.
    pub fn type_name(&self) -> &'static str {
        match self {
            BuildEvent::ContextPlanned { .. } => "contextPlanned",
            BuildEvent::UploadProgress { .. } => "uploadProgress",
            BuildEvent::StepStarted { .. } => "stepStarted",
            BuildEvent::StepCached { .. } => "stepCached",
            BuildEvent::StepFinished { .. } => "stepFinished",
            BuildEvent::Log { .. } => "log",
            BuildEvent::BuildFinished { .. } => "buildFinished",
            BuildEvent::BuildFailed { .. } => "buildFailed",
        }
    }

    /// `contextPlanned` for the contexts of a plan (each distinct key once, in order).
    pub fn context_planned<'a>(contexts: impl IntoIterator<Item = &'a daytona_context::ContextPlan>) -> BuildEvent {
        let mut planned: Vec<PlannedContext> = Vec::new();
        for c in contexts {
            if planned.iter().any(|p| p.key == c.key) {
                continue;
            }
            planned.push(PlannedContext { key: c.key.clone(), source_path: c.source_path.display().to_string(), files: c.files, bytes: c.bytes });
        }
        BuildEvent::ContextPlanned {
            files: planned.iter().map(|p| p.files).sum(),
            bytes: planned.iter().map(|p| p.bytes).sum(),
            keys: planned.iter().map(|p| p.key.clone()).collect(),
            contexts: planned,
        }
    }
}

/// The exit code in a builder's failure message ("... returned a non-zero code: 3", BuildKit's
/// "... exit code: 127").
pub fn exit_code(message: &str) -> Option<i64> {
    for marker in ["returned a non-zero code: ", "exit code: "] {
        if let Some(pos) = message.rfind(marker) {
            let digits: String = message[pos + marker.len()..].chars().take_while(|c| c.is_ascii_digit()).collect();
            if let Ok(n) = digits.parse() {
                return Some(n);
            }
        }
    }
    None
}

/// "Step 2/5 : RUN x" → (2, 5, "RUN x").
pub fn parse_step(line: &str) -> Option<(u32, u32, String)> {
    let rest = line.strip_prefix("Step ")?;
    let (counts, instruction) = rest.split_once(" : ").map(|(c, i)| (c, i.trim())).unwrap_or((rest.trim(), ""));
    let (index, total) = counts.split_once('/')?;
    Some((index.trim().parse().ok()?, total.trim().parse().ok()?, instruction.to_string()))
}

/// Follows the classic builder's output line by line and says which step each line belongs to
/// and which step events it implies. Time comes from the caller (`now`), so that tests are
/// exact and the API backend measures when lines arrive.
#[derive(Debug, Default)]
pub struct StepParser {
    current: Option<(u32, Instant)>,
    /// The step a failure message named, and its exit code.
    failed_code: Option<i64>,
    finished: bool,
}

impl StepParser {
    pub fn new() -> StepParser {
        StepParser::default()
    }

    /// The step the output is in (none before the first "Step" line and after the build ended).
    pub fn step(&self) -> Option<u32> {
        self.current.map(|(i, _)| i)
    }

    /// Reads one line; returns the events it implies (before the line itself is delivered) and
    /// the step the line belongs to.
    pub fn line(&mut self, line: &str, now: Instant) -> (Vec<BuildEvent>, Option<u32>) {
        let mut events = Vec::new();
        if self.finished {
            return (events, None);
        }
        if let Some((index, total, instruction)) = parse_step(line) {
            if let Some(done) = self.close(now) {
                events.push(done);
            }
            self.current = Some((index, now));
            events.push(BuildEvent::StepStarted { index, total, instruction });
            return (events, Some(index));
        }
        let step = self.step();
        if line.trim() == "---> Using cache" {
            if let Some(index) = step {
                events.push(BuildEvent::StepCached { index });
            }
        } else if let Some(code) = line.contains("returned a non-zero code: ").then(|| exit_code(line)).flatten() {
            self.failed_code = Some(code);
        } else if line.starts_with("Successfully built ") {
            // The last step ended; this line and later ones are not a step's.
            if let Some(done) = self.close(now) {
                events.push(done);
            }
            return (events, None);
        }
        (events, step)
    }

    fn close(&mut self, now: Instant) -> Option<BuildEvent> {
        let (index, started) = self.current.take()?;
        Some(BuildEvent::StepFinished { index, duration_ms: now.saturating_duration_since(started).as_secs_f64() * 1000.0 })
    }

    /// The build succeeded: the step still open (if any) finished.
    pub fn succeeded(&mut self, now: Instant) -> Vec<BuildEvent> {
        self.finished = true;
        self.close(now).into_iter().collect()
    }

    /// The build failed with `message` (the engine's error, or the server's reason): the step
    /// that was running is the failing one; the exit code comes from the message or, failing
    /// that, from a failure line seen in the output.
    pub fn failed(&mut self, message: &str) -> BuildEvent {
        self.failed_as(message, message.to_string())
    }

    /// [`StepParser::failed`] with the exit code read from `detail` (the builder's own words)
    /// and `message` reported (what the operation's error says).
    pub fn failed_as(&mut self, detail: &str, message: String) -> BuildEvent {
        self.finished = true;
        let step = self.current.take().map(|(i, _)| i);
        BuildEvent::BuildFailed { step, exit_code: exit_code(detail).or(self.failed_code), message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::LineAssembler;
    use std::time::Duration;

    /// What the local engine's classic builder (Docker 20.10, `POST /build?version=1`) sent for
    /// a build with a cached step, a step that ran and a step that failed: the JSON messages
    /// as captured.
    const CAPTURED_FAILED: &str = include_str!("../fixtures/classic-build-failed.jsonl");
    /// The same for a successful build with a cached step, tagged.
    const CAPTURED_OK: &str = include_str!("../fixtures/classic-build-ok.jsonl");

    /// Feeds a captured stream as `build.rs` does (fragments assembled into lines, one fake
    /// millisecond tick per line); returns the events with the lines in between, and the
    /// engine's error message if the stream ended with one.
    fn replay(captured: &str) -> (StepParser, Vec<String>, Option<String>, Instant) {
        let t0 = Instant::now();
        let mut p = StepParser::new();
        let mut assembler = LineAssembler::default();
        let mut out = Vec::new();
        let mut n = 0u64;
        let mut error = None;
        for message in captured.lines() {
            let v: serde_json::Value = serde_json::from_str(message).unwrap();
            if let Some(text) = v.get("stream").and_then(|s| s.as_str()) {
                for line in assembler.push(text) {
                    let (events, step) = p.line(&line, t0 + Duration::from_millis(n));
                    n += 1;
                    out.extend(events.iter().map(|e| format!("{e:?}")));
                    out.push(format!("[{}] {line}", step.map(|s| s.to_string()).unwrap_or_default()));
                }
            }
            if let Some(m) = v.pointer("/errorDetail/message").and_then(|s| s.as_str()) {
                error = Some(m.to_string());
            }
        }
        (p, out, error, t0 + Duration::from_millis(n))
    }

    #[test]
    fn steps_cache_and_failure_from_captured_output() {
        let (mut p, out, error, _) = replay(CAPTURED_FAILED);
        let expected = [
            r#"StepStarted { index: 1, total: 4, instruction: "FROM daytona-test/busybox:1" }"#,
            "[1] Step 1/4 : FROM daytona-test/busybox:1",
            "[1]  ---> bda569ce5e35",
            "StepFinished { index: 1, duration_ms: 2.0 }",
            r#"StepStarted { index: 2, total: 4, instruction: "RUN echo cached-step" }"#,
            "[2] Step 2/4 : RUN echo cached-step",
            "StepCached { index: 2 }",
            "[2]  ---> Using cache",
            "[2]  ---> 6d51c365bd99",
            "StepFinished { index: 2, duration_ms: 3.0 }",
            r#"StepStarted { index: 3, total: 4, instruction: "RUN echo fresh-1796001196653967520 && echo second line" }"#,
            "[3] Step 3/4 : RUN echo fresh-1796001196653967520 && echo second line",
            "[3]  ---> Running in 3461747e0975",
            "[3] fresh-1796001196653967520",
            "[3] second line",
            "[3] Removing intermediate container 3461747e0975",
            "[3]  ---> cbad5fe6bdfa",
            "StepFinished { index: 3, duration_ms: 6.0 }",
            r#"StepStarted { index: 4, total: 4, instruction: "RUN echo about to fail && exit 3" }"#,
            "[4] Step 4/4 : RUN echo about to fail && exit 3",
            "[4]  ---> Running in c176c6bcbdbe",
            "[4] about to fail",
            "[4] Removing intermediate container c176c6bcbdbe",
        ];
        assert_eq!(out, expected);
        // The failure comes as the engine's errorDetail, not as a line.
        let error = error.expect("errorDetail");
        assert_eq!(
            p.failed(&error),
            BuildEvent::BuildFailed { step: Some(4), exit_code: Some(3), message: "The command '/bin/sh -c echo about to fail && exit 3' returned a non-zero code: 3".into() }
        );
        // Nothing more after the end.
        assert_eq!(p.line("Step 9/9 : RUN x", Instant::now()), (vec![], None));
    }

    #[test]
    fn exit_code_from_the_output_when_the_message_has_none() {
        // The API's build log prints the failure line; the server's reason may not carry it.
        let t0 = Instant::now();
        let mut p = StepParser::new();
        p.line("Step 2/2 : RUN exit 7", t0);
        p.line("The command '/bin/sh -c exit 7' returned a non-zero code: 7", t0);
        match p.failed("Step 2/2 failed") {
            BuildEvent::BuildFailed { step, exit_code, .. } => assert_eq!((step, exit_code), (Some(2), Some(7))),
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn successful_build_closes_the_last_step() {
        let (mut p, out, error, end) = replay(CAPTURED_OK);
        assert_eq!(error, None);
        let expected = [
            "StepCached { index: 2 }",
            "StepFinished { index: 3, duration_ms: 4.0 }",
            "[] Successfully built 24a7e9e9d570",
            "[] Successfully tagged daytona-native-capture:1",
        ];
        assert_eq!(out.iter().filter(|l| l.starts_with("StepCached") || l.starts_with("StepFinished { index: 3") || l.starts_with("[] ")).collect::<Vec<_>>(), expected);
        // Nothing is left open.
        assert!(p.succeeded(end).is_empty());
    }

    #[test]
    fn step_lines() {
        assert_eq!(parse_step("Step 2/5 : RUN pip install x"), Some((2, 5, "RUN pip install x".into())));
        assert_eq!(parse_step("Step 3/4"), Some((3, 4, String::new())));
        assert_eq!(parse_step("Step two"), None);
        assert_eq!(parse_step("Stepping 1/2 : x"), None);
        assert_eq!(exit_code("The command '/bin/sh -c exit 3' returned a non-zero code: 3"), Some(3));
        assert_eq!(exit_code("executor failed running [/bin/sh -c x]: exit code: 127"), Some(127));
        assert_eq!(exit_code("COPY failed: nope"), None);
    }

    #[test]
    fn an_unterminated_step_line_from_the_api_log() {
        // The API's stream may end in the middle of a build ("Step 3/4" without an instruction).
        let t0 = Instant::now();
        let mut p = StepParser::new();
        let (e, s) = p.line("Step 3/4", t0);
        assert_eq!(e, vec![BuildEvent::StepStarted { index: 3, total: 4, instruction: String::new() }]);
        assert_eq!(s, Some(3));
        assert_eq!(p.succeeded(t0 + Duration::from_millis(5)), vec![BuildEvent::StepFinished { index: 3, duration_ms: 5.0 }]);
    }
}
