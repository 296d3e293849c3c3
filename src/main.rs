//! The `zarrbench` binary: a thin front over the library.

use clap::{Parser, Subcommand};

use zarrbench::{api, cli, config};

/// Benchmarks Zarr codecs and chunk layouts on microscopy-like volumes.
///
/// Without a subcommand, serves the HTTP API (as `zarrbench serve`).
#[derive(Debug, Parser)]
#[command(
    name = "zarrbench",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: config::ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the HTTP API (the default).
    Serve(config::ServeArgs),
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
        Some(Command::Serve(args)) => serve(&args),
        None => serve(&cli.serve),
    };
    if let Err(message) = outcome {
        eprintln!("error: {message}");
        std::process::exit(2);
    }
}

/// Starts the service and blocks until it has drained after a signal.
fn serve(args: &config::ServeArgs) -> Result<(), String> {
    let settings = args.settings().map_err(|e| e.to_string())?;
    init_logging();
    actix_rt::System::new()
        .block_on(api::server::serve(settings))
        .map_err(|e| e.to_string())
}

/// Human-readable logs on stderr, `RUST_LOG` to filter (default `info`).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Help and version print in full; any other argument error is one line.
fn exit_with_clap_error(error: clap::Error) -> ! {
    use clap::error::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        error.exit();
    }
    let rendered = error.render().to_string();
    let first_line = rendered.lines().next().unwrap_or("invalid arguments");
    eprintln!("{first_line} (see zarrbench --help)");
    std::process::exit(2);
}
