//! The command line: `serve`, `migrate`, `default-config`, `user create`, `bench`.

use crate::clock::{SharedClock, SystemClock};
use crate::config::{Config, DEFAULT_TOML};
use crate::domain::{DisplayName, Email, GlobalPermission, Slug};
use crate::secret::Secret;
use crate::server::{open_store, Bootstrap, Server};
use crate::services::passwords;
use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "junction",
    version,
    about = "Junction: application links, apps, and the host they act on"
)]
pub struct Cli {
    /// Configuration file (TOML). Print the commented defaults with `junction default-config`.
    #[arg(short, long, global = true, env = "JUNCTION_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (migrates the database first).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the default configuration, with comments.
    DefaultConfig,
    /// Manage users in the configured database (works while the server runs).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Measure REST throughput and latency against a fresh in-process server.
    Bench(crate::bench::BenchArgs),
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user, reading the password from standard input.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        email: Option<String>,
        /// Read the password from standard input (required: passwords never go on command lines).
        #[arg(long, required = true)]
        password_stdin: bool,
        /// Make the user a system administrator.
        #[arg(long)]
        admin: bool,
    },
}

pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::DefaultConfig = cli.command {
        print!("{DEFAULT_TOML}");
        return Ok(());
    }
    let mut config = Config::load(cli.config.as_deref())?;
    if let Command::Bench(_) = cli.command {
        // The benchmark measures the server, not the terminal: per-request log lines stay off.
        config.log.level = "warn".into();
    }
    init_logging(&config);
    let clock: SharedClock = Arc::new(SystemClock);
    match cli.command {
        Command::DefaultConfig => unreachable!("handled above"),
        Command::Serve => {
            let bootstrap = Bootstrap {
                admin_password: std::env::var("JUNCTION_ADMIN_PASSWORD")
                    .ok()
                    .map(Secret::new),
            };
            let server = Server::build(config, clock, bootstrap).await?;
            server.run(shutdown_signal()).await
        }
        Command::Migrate => {
            let store = open_store(&config, clock).await?;
            println!("Database is up to date ({}).", store.backend());
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Create {
                    username,
                    display_name,
                    email,
                    password_stdin: _,
                    admin,
                },
        } => {
            let slug = Slug::parse("username", &username)?;
            let display =
                DisplayName::parse("display-name", display_name.as_deref().unwrap_or(&username))?;
            let email = email.as_deref().map(Email::parse).transpose()?;
            let mut password = String::new();
            std::io::stdin()
                .read_line(&mut password)
                .context("cannot read the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']).to_string();
            passwords::check_policy(&password).map_err(anyhow::Error::msg)?;
            let store = open_store(&config, clock).await?;
            let hash = passwords::hash_once(password).await?;
            let global = if admin {
                GlobalPermission::SysAdmin
            } else {
                GlobalPermission::LicensedUser
            };
            match store
                .create_user(
                    slug.as_str(),
                    display.as_str(),
                    email.as_ref().map(|e| e.as_str()),
                    Some(&hash),
                    Some(global),
                )
                .await
            {
                Ok(u) => println!("Created user {} ({}).", u.slug, global),
                Err(crate::store::StoreError::Duplicate) => {
                    bail!("the name {slug} is already taken by a user or team")
                }
                Err(e) => return Err(e.into()),
            }
            Ok(())
        }
        Command::Bench(args) => crate::bench::run(config, args).await,
    }
}

fn init_logging(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log.level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if config.log.format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing requests in flight");
}
