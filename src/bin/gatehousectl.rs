//! `gatehousectl`: the administrator's command line. Exit codes: 0 ok, 1 failed,
//! 2 usage error, 3 permission denied or out of scope, 4 not found.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use gatehouse::admin::client::{AdminClient, ClientError};
use gatehouse::cli::{Cli, render};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (op, args) = match cli.noun.to_request() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("gatehousectl: {e}");
            return ExitCode::from(2);
        }
    };
    let result =
        AdminClient::connect(&cli.socket, cli.act_as.clone()).and_then(|mut c| c.call(op, args));
    match result {
        Ok(value) => {
            if cli.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&value).unwrap_or_default()
                );
            } else {
                println!("{}", render::human(op, &value));
            }
            ExitCode::SUCCESS
        }
        Err(ClientError::Refused { code, message }) => {
            eprintln!("gatehousectl: {message}");
            ExitCode::from(u8::try_from(code.exit_code()).unwrap_or(1))
        }
        Err(e) => {
            eprintln!("gatehousectl: {e}");
            ExitCode::from(1)
        }
    }
}
