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
    /// Set a user's password (the way back in when no administrator can sign in). Every session
    /// of theirs ends. On a terminal it prompts twice without echo; otherwise it reads one line.
    SetPassword {
        #[arg(long)]
        username: String,
        /// Read the password from standard input (passwords never go on command lines).
        #[arg(long, required = true)]
        password_stdin: bool,
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
                    None,
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
        Command::User {
            command: UserCommand::SetPassword { username, .. },
        } => {
            let password = read_new_password(&username)?;
            passwords::check_policy(&password).map_err(anyhow::Error::msg)?;
            let store = open_store(&config, clock).await?;
            let Some((user, _, _)) = store
                .find_user_credentials(&username.trim().to_ascii_lowercase())
                .await?
            else {
                bail!("there is no user named {username}");
            };
            let hash = passwords::hash_once(password).await?;
            store.set_password(user.id, &hash, None, None).await?;
            println!(
                "Set the password of {}; their sessions have ended.",
                user.slug
            );
            Ok(())
        }
        Command::Bench(args) => crate::bench::run(config, args).await,
    }
}

/// The new password: prompted twice without echo on a terminal, else one line of stdin.
fn read_new_password(username: &str) -> anyhow::Result<String> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    let first = prompt_hidden(&format!("New password for {username}: "))?;
    let again = prompt_hidden("Again: ")?;
    if first != again {
        bail!("the two passwords differ; nothing was changed");
    }
    Ok(first)
}

/// Reads a line from the terminal with echo off (restored afterwards, also on error), turned off
/// before the prompt appears.
#[allow(unsafe_code)]
fn prompt_hidden(prompt: &str) -> anyhow::Result<String> {
    use std::io::Write;
    let fd = libc::STDIN_FILENO;
    // SAFETY: termios is plain data; tcgetattr fills it, and it is only used on success.
    let mut saved: libc::termios = unsafe { std::mem::zeroed() };
    let have_tty = unsafe { libc::tcgetattr(fd, &mut saved) } == 0;
    if have_tty {
        let mut quiet = saved;
        quiet.c_lflag &= !libc::ECHO;
        // SAFETY: sets attributes read from the same descriptor, with echo cleared.
        unsafe { libc::tcsetattr(fd, libc::TCSANOW, &quiet) };
    }
    // Only now the prompt: whatever is typed once it shows is never echoed.
    eprint!("{prompt}");
    std::io::stderr().flush()?;
    let mut line = String::new();
    let read = std::io::stdin().read_line(&mut line);
    if have_tty {
        // SAFETY: restores exactly what tcgetattr returned.
        unsafe { libc::tcsetattr(fd, libc::TCSANOW, &saved) };
    }
    eprintln!();
    read.context("cannot read the password")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
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
