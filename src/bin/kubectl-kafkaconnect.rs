//! `kubectl kafkaconnect`: the kubectl plugin (see `kco::plugin`).

use clap::Parser;

#[tokio::main]
async fn main() {
    let cli = kco::plugin::Cli::parse();
    match kco::plugin::run(cli).await {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            // kubectl's code for a failed command; 1 means "differs" for diff.
            std::process::exit(2);
        }
    }
}
