//! The usertrail demo server: serves the shop page and the built `usertrail` package.

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Router;
use tower_http::services::ServeDir;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let package_dir = root.join("../dist");
    if !package_dir.join("index.js").exists() {
        eprintln!(
            "usertrail-demo: {} has no built package; run scripts/build first",
            package_dir.display()
        );
        std::process::exit(1);
    }
    let app = Router::new()
        .nest_service("/pkg", ServeDir::new(package_dir))
        .fallback_service(ServeDir::new(root.join("static")));

    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("usertrail demo: open http://{addr}/");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
