//! `between`: the command line. It parses arguments, calls the library crates and prints; the
//! rules live in the libraries.

mod args;
mod bench;
mod bench_findings;
mod bench_queries;
mod bench_report;
mod bench_scale;
mod bench_server;
mod commands;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc rather than the system allocator: imports and exports allocate and free millions
/// of small strings, which glibc's allocator spends about a seventh of their time on.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc.h (versions 2 and 3).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// For a long-running process (a server): memory freed goes back to the system at once. By
/// default mimalloc keeps freed pages for a second and gives them back only on its next
/// allocations, so after a large request (a listing, a login's 19 MiB of argon2) the memory
/// stayed resident and the next request's peak came on top of it (bench/README.md, server
/// memory). Other commands, short-lived, keep mimalloc's default.
#[allow(unsafe_code)]
pub fn give_back_freed_memory_at_once() {
    // SAFETY: sets an integer option that mimalloc reads whenever it purges; called before
    // the server starts its threads.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
}

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
