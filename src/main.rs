//! The `zarrbench` binary: a thin front over the library.

use clap::{Parser, Subcommand};

use zarrbench::cli;

/// Benchmarks Zarr codecs and chunk layouts on microscopy-like volumes.
#[derive(Debug, Parser)]
#[command(name = "zarrbench", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run one sweep on this machine and print the results.
    Run(cli::run::RunArgs),
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => exit_with_clap_error(error),
    };
    let outcome = match cli.command {
        Some(Command::Run(args)) => cli::run::execute(&args),
        None => demo(),
    };
    if let Err(message) = outcome {
        eprintln!("error: {message}");
        std::process::exit(2);
    }
}

/// A small sweep that shows what zarrbench prints.
fn demo() -> Result<(), String> {
    let args = cli::run::RunArgs::parse_demo();
    cli::run::execute(&args)
}

/// Help and version print in full; any other argument error is one line.
fn exit_with_clap_error(error: clap::Error) -> ! {
    use clap::error::ErrorKind;
    if matches!(error.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand) {
        error.exit();
    }
    let rendered = error.render().to_string();
    let first_line = rendered.lines().next().unwrap_or("invalid arguments");
    eprintln!("{first_line} (see zarrbench --help)");
    std::process::exit(2);
}
