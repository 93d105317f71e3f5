//! The command line: one module per subcommand. `main.rs` parses the arguments into [`Cli`] and
//! hands them to [`run`].

pub mod annotate;
pub mod explain;
pub mod gazetteer;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Extract people, roles, bodies and places from Vietnamese government news.
#[derive(Debug, Parser)]
#[command(name = "vnner", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Annotate(annotate::Args),
    Gazetteer(gazetteer::Args),
    Explain(explain::Args),
}

/// Exit codes: everything read, some inputs failed, nothing could run.
pub mod exit {
    pub const OK: u8 = 0;
    pub const SOME_FAILED: u8 = 1;
    pub const NOTHING_RAN: u8 = 2;
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    let code = match cli.command {
        Command::Annotate(args) => annotate::run(args),
        Command::Gazetteer(args) => gazetteer::run(args),
        Command::Explain(args) => explain::run(args),
    };
    ExitCode::from(code)
}
