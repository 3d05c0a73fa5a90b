//! The `gannet` binary: flags → validated options → the library crates. No extraction or
//! fetching logic lives here.

mod alloc;
mod crawl_cmd;
mod crawl_progress;
mod extract;
mod extraction_spec;
mod logging;
mod mcp_cmd;
mod output;
mod schema_opt;
mod scrape;
mod scrape_cmd;
mod serve_cmd;
mod worker_cmd;

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
    /// Crawl sites politely into JSONL, a Markdown tree or WARC; resumable after a crash.
    Crawl(crawl_cmd::CrawlArgs),
    /// Run the HTTP service (crawl4ai- and Firecrawl-compatible API).
    Serve(serve_cmd::ServeArgs),
    /// Serve MCP tools (scrape, crawl, map, …) over stdio to an AI agent host.
    Mcp(mcp_cmd::McpArgs),
    /// Join a distributed crawl on Redis (`gannet crawl --redis`) and work until it is done.
    Worker(worker_cmd::WorkerArgs),
}

/// A mistake in how the command was called (exit 64, EX_USAGE).
#[derive(Debug)]
pub(crate) struct UsageError(pub(crate) String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// sysexits-style exit codes.
const EX_USAGE: u8 = 64;
/// Some input failed (a page could not be fetched or a file read); the others were done.
const EX_UNAVAILABLE_OR_DATAERR: u8 = 69;
const EX_SOFTWARE: u8 = 70;
/// Stopped by SIGINT/SIGTERM (128 + 2, as shells report it).
const EX_INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    alloc::tune();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Extract(args) => extract::run(args),
        Command::Scrape(args) => scrape_cmd::run(args),
        Command::Serve(args) => serve_cmd::run(args),
        Command::Mcp(args) => mcp_cmd::run(args),
        Command::Crawl(args) => match crawl_cmd::run(args) {
            Ok(crawl_cmd::CrawlExit::Done) => Ok(true),
            Ok(crawl_cmd::CrawlExit::Interrupted) => return ExitCode::from(EX_INTERRUPTED),
            Err(e) => Err(e),
        },
        Command::Worker(args) => match worker_cmd::run(args) {
            Ok(crawl_cmd::CrawlExit::Done) => Ok(true),
            Ok(crawl_cmd::CrawlExit::Interrupted) => return ExitCode::from(EX_INTERRUPTED),
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(EX_UNAVAILABLE_OR_DATAERR),
        Err(e) => {
            // A closed stdout (`gannet extract … | head`) is a normal end, not an error.
            let broken_pipe = e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            });
            if broken_pipe {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {e:#}");
            if e.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(EX_USAGE)
            } else if let Some(code) = serve_cmd::exit_code(&e) {
                ExitCode::from(code)
            } else {
                ExitCode::from(EX_SOFTWARE)
            }
        }
    }
}
