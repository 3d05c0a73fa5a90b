//! The `gannet` binary: flags → validated options → the library crates. No extraction or
//! fetching logic lives here.

mod extract;
mod output;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// gannet turns web pages into clean, LLM-ready Markdown.
#[derive(Debug, Parser)]
#[command(name = "gannet", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Extract local HTML files (or stdin) to Markdown, text, HTML or JSON.
    Extract(extract::ExtractArgs),
}

/// sysexits-style exit codes.
const EX_DATAERR: u8 = 65;
const EX_SOFTWARE: u8 = 70;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Extract(args) => extract::run(args),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(EX_DATAERR),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EX_SOFTWARE)
        }
    }
}
