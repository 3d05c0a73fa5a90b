//! The `gannet` binary: flags → validated options → the library crates. No extraction or
//! fetching logic lives here.

mod extract;
mod output;
mod scrape;
mod scrape_cmd;

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
    /// Fetch web pages and print them as Markdown, text, HTML or JSON.
    Scrape(scrape_cmd::ScrapeArgs),
}

/// sysexits-style exit codes.
/// Some input failed (a page could not be fetched or a file read); the others were done.
const EX_UNAVAILABLE_OR_DATAERR: u8 = 69;
const EX_SOFTWARE: u8 = 70;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Extract(args) => extract::run(args),
        Command::Scrape(args) => scrape_cmd::run(args),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(EX_UNAVAILABLE_OR_DATAERR),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EX_SOFTWARE)
        }
    }
}
