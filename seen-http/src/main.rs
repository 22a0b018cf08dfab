//! `seen-http`: the Seen REST server.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use seen_core::{Config, Library, config::OPTIONS};

/// Serve a Seen photo library over HTTP.
#[derive(Debug, Parser)]
#[command(name = "seen-http", version, about, after_long_help = options_help(), after_help = options_help())]
struct Cli {
    /// Data directory: seen.db, derived/, models/ [env: SEEN_DATA_DIR] [default: ./seen-data]
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// sqlite://FILE or postgres://... [env: SEEN_DATABASE_URL] [default: SQLite in the data dir]
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// Address to bind [env: SEEN_HOST] [default: 127.0.0.1]
    #[arg(long, value_name = "H")]
    host: Option<String>,
    /// Port to listen on; 0 picks a free one [env: SEEN_PORT] [default: 3000]
    #[arg(long, value_name = "N")]
    port: Option<u16>,
    /// Directory with the face models [env: SEEN_MODELS_DIR] [default: <data-dir>/models]
    #[arg(long, value_name = "DIR")]
    models_dir: Option<PathBuf>,
    /// Disable face detection [env: SEEN_FACES=false]
    #[arg(long)]
    no_faces: bool,
    /// TOML file with any of the options below (flat `key = value`)
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Folders to register, watch and scan at start-up
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
}

fn options_help() -> String {
    let mut s =
        String::from("All options (precedence: defaults < --config file < environment < flags):\n");
    for o in OPTIONS {
        s.push_str(&format!(
            "  {:<20} {:<24} {}  [default: {}]\n",
            o.key, o.env, o.doc, o.default
        ));
    }
    s.push_str("Logs go to stderr; RUST_LOG filters them (e.g. RUST_LOG=seen_core=debug).\n");
    s
}

fn build_config(cli: &Cli) -> seen_core::Result<Config> {
    let mut config = Config::load(cli.config.as_deref())?;
    if let Some(d) = &cli.data_dir {
        config.data_dir = d.clone();
    }
    if let Some(u) = &cli.database_url {
        config.database_url = Some(u.clone());
    }
    if let Some(h) = &cli.host {
        config.host = h.clone();
    }
    if let Some(p) = cli.port {
        config.port = p;
    }
    if let Some(m) = &cli.models_dir {
        config.models_dir = Some(m.clone());
    }
    if cli.no_faces {
        config.faces_enabled = false;
    }
    config.validate()?;
    Ok(config)
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("install SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutting down");
}

async fn run(cli: Cli) -> seen_core::Result<()> {
    let config = build_config(&cli)?;
    let addr = format!("{}:{}", config.host, config.port);
    let library = Library::open(config).await?;
    // Watch every registered folder again and reconcile it with the disk.
    library.start_background().await?;
    for path in &cli.paths {
        let p = library.add_path(&path.to_string_lossy()).await?;
        match library.scan(&p.path).await {
            Ok(_) | Err(seen_core::Error::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
        tracing::info!(path = %p.path, "registered scan path");
    }
    let listener =
        tokio::net::TcpListener::bind(&addr)
            .await
            .map_err(|e| seen_core::Error::Io {
                path: None,
                source: std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")),
            })?;
    let local = listener.local_addr()?;
    tracing::info!("listening on http://{local}");
    let app = seen_http::router(library.clone());
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await;
    library.close().await;
    served.map_err(Into::into)
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("seen-http: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("seen-http: {e}");
            ExitCode::FAILURE
        }
    }
}
