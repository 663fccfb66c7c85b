use clap::Parser;
use kco::cli::{Cli, Command};

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Crd => {
            print!("{}", kco::api::crds_yaml());
            Ok(())
        }
        Command::Run(args) => {
            limit_malloc_arenas();
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            runtime.block_on(kco::run(*args))
        }
    }
}

/// glibc gives every thread that allocates at once an arena of its own (up to 8 per core),
/// and memory freed in one arena is not reused by another: with the runtime's workers and the
/// resolver's blocking threads, peak RSS with 1,000 connectors on one cluster reached 41.9 MiB
/// (`make bench`, `KCO_BENCH_SIZES=1000`), 41.0 with two arenas, 36.3 with one. An operator that spends
/// its time waiting on the network loses nothing to the lock. Set before any thread starts.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; no thread allocates yet.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}
