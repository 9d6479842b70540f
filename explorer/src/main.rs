//! `usertrail-explorer`: the explorer page and JSON API over the embedded store.

use std::process::ExitCode;
use std::sync::Arc;

use usertrail_explorer::api::{self, Backend};
use usertrail_explorer::store::sqlite::Store;

#[tokio::main]
async fn main() -> ExitCode {
    let data_dir = std::path::PathBuf::from("usertrail-data");
    if let Err(e) = std::fs::create_dir_all(&data_dir) {
        eprintln!("usertrail-explorer: {}: {e}", data_dir.display());
        return ExitCode::FAILURE;
    }
    let store = match Store::open(&data_dir.join("spans.sqlite")) {
        Ok(store) => Arc::new(store),
        Err(e) => {
            eprintln!("usertrail-explorer: {e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind("127.0.0.1:4318").await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("usertrail-explorer: 127.0.0.1:4318: {e}");
            return ExitCode::FAILURE;
        }
    };
    let router = api::router(Backend::Store(store));
    match axum::serve(listener, router).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("usertrail-explorer: {e}");
            ExitCode::FAILURE
        }
    }
}
