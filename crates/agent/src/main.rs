//! `daytona-native-agent`. Minimal dispatch kept on branch `reaper` until the agent's own
//! `main.rs` (branch `agent`) is merged; only the `reap` line belongs to this branch.

mod reaper;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("reap") => reaper::main(&args[1..]),
        _ => {
            eprintln!("usage: daytona-native-agent reap --session ID");
            ExitCode::from(2)
        }
    }
}
