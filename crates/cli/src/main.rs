//! `between`: the command line. It parses arguments, calls the library crates and prints; the
//! rules live in the libraries.

mod args;
mod bench;
mod bench_findings;
mod bench_queries;
mod bench_report;
mod bench_server;
mod commands;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc rather than the system allocator: imports and exports allocate and free millions
/// of small strings, which glibc's allocator spends about a seventh of their time on.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = args::Cli::parse(); // exits with 2 on wrong usage
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if closed_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Output piped into a reader that stopped (`between codings list … | head`) is not an error.
fn closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
