//! The `junction` binary: a thin shell around the library (see `cli.rs`).

#[tokio::main]
async fn main() {
    if let Err(e) = junction::cli::run().await {
        eprintln!("junction: {e:#}");
        std::process::exit(1);
    }
}
