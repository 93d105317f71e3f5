use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    vnner::cli::run(vnner::cli::Cli::parse())
}
