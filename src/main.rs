use std::process::ExitCode;

use clap::Parser;

/// Every document allocates and frees a few dozen buffers of tens of kilobytes, from several
/// threads at once; mimalloc's per-thread free lists serve them without the system allocator's
/// bin searches and consolidation (a tenth of the run time, in profiles).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    vnner::cli::run(vnner::cli::Cli::parse())
}
