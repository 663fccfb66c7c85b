use clap::Parser;
use kco::cli::{Cli, Command};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Crd => {
            print!("{}", kco::api::crds_yaml());
            Ok(())
        }
        Command::Run(args) => kco::run(*args).await,
    }
}
