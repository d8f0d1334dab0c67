//! `gatehousectl`: the administrator's command line. Exit codes: 0 ok, 1 failed,
//! 2 usage error, 3 permission denied or out of scope, 4 not found.

#![forbid(unsafe_code)]

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser;
use gatehouse::admin::client::{AdminClient, ClientError};
use gatehouse::admin::proto::ErrorCode;
use gatehouse::cli::{Cli, render};
use serde_json::json;

/// Writes `text` and a newline to stdout. A reader that went away (`| head`) is not an
/// error: the output was simply not wanted any more.
fn print(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(1),
    }
}

/// Reports a failure: one line on stderr, or with `--json` a JSON object on stdout.
fn fail(json_output: bool, code: ErrorCode, message: &str) -> ExitCode {
    let exit = ExitCode::from(u8::try_from(code.exit_code()).unwrap_or(1));
    if json_output {
        let body = json!({"ok": false, "error": {"code": code, "message": message}});
        let _ = print(&serde_json::to_string_pretty(&body).unwrap_or_default());
    } else {
        eprintln!("gatehousectl: {message}");
    }
    exit
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = match cli.noun.to_command() {
        Ok(c) => c,
        Err(e) => return fail(cli.json, ErrorCode::InvalidArgument, &e.0),
    };
    let json = cli.json;
    let mut show_progress = |p: &serde_json::Value| match p.get("trace") {
        // A trace's events are its output, one JSON object per line with --json.
        Some(t) if json => println!("{t}"),
        Some(t) => print!("{}", render::trace(t)),
        None => eprintln!("{}", render::progress(p)),
    };
    let result = AdminClient::connect(&cli.socket, cli.act_as.clone())
        .and_then(|mut c| c.send(&command, &mut show_progress));
    match result {
        Ok(value) => {
            if cli.json {
                print(&serde_json::to_string_pretty(&value).unwrap_or_default())
            } else {
                print(&render::human(&command, &value))
            }
        }
        Err(ClientError::Refused { code, message }) => fail(cli.json, code, &message),
        Err(e @ ClientError::TooLarge { .. }) => {
            fail(cli.json, ErrorCode::InvalidArgument, &e.to_string())
        }
        Err(e) => fail(cli.json, ErrorCode::Internal, &e.to_string()),
    }
}
