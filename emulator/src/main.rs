//! `kco-connect-emulator`: see the crate documentation and the README's "Connect emulator".

use clap::Parser;

#[tokio::main]
async fn main() {
    let args = kco_connect_emulator::Args::parse();
    if let Err(e) = kco_connect_emulator::run(args).await {
        eprintln!("kco-connect-emulator: {e}");
        std::process::exit(1);
    }
}
