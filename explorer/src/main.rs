//! `usertrail-explorer`: the OTLP/HTTP receiver, the explorer page and its JSON API.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use usertrail_explorer::server::{self, Options};

const HELP: &str = "\
usertrail-explorer: which users and accounts did this backend error or slow request hurt?

Receives spans over OTLP/HTTP from any OpenTelemetry SDK or Collector, puts the browser's
identity (usr.id, account.id, session.id) on each service's entry span, stores them, and
serves the explorer (/explorer) and its JSON API (/api/...) on the same port.

USAGE: usertrail-explorer [OPTIONS]

OPTIONS:
  --listen ADDR          where to listen (default 127.0.0.1:4318, OTLP/HTTP's port);
                         senders use http://ADDR/v1/traces
  --data-dir DIR         the embedded store's folder, created if needed (default
                         usertrail-data)
  --store URL            keep spans in ClickHouse instead of the embedded store, for more
                         than one machine: clickhouse://host:8123/database (its HTTP
                         port; the database and table are created if needed)
  --max-body SIZE        the largest OTLP body, compressed and after gzip (default 16MiB);
                         larger ones get a 413
  --queue-spans N        spans waiting for the store at most (default 100000); past that
                         senders get a 429 with Retry-After and retry
  --retention-age AGE    drop spans older than this (default 7d; 0 keeps all):
                         s, m, h, d
  --retention-size SIZE  drop the oldest spans while the store is larger (default 10GiB;
                         0: no limit): B, KiB, MiB, GiB (or KB, MB, GB)
  --read-token TOKEN     the page and the JSON API ask for it (HTTP Basic auth: any user
                         name, the token as password; or Authorization: Bearer TOKEN);
                         or USERTRAIL_READ_TOKEN. Required beyond loopback
  --ingest-token TOKEN   OTLP senders put it in Authorization: Bearer TOKEN
                         (OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer%20TOKEN); or
                         USERTRAIL_INGEST_TOKEN. Required beyond loopback
  --synthetic N          first write N synthetic spans shaped like the demo shop's (its
                         planted faults included) over the last 24 hours: to try the
                         explorer without services
  --monitor-interval AGE how often monitors are evaluated (default 60s): s, m, h
  --webhook-backoff AGE  the wait before a failed notification's first retry, doubled
                         for each next one, 5 attempts in all (default 1s)
  -h, --help             this text

Sizes are bytes with an optional unit; numbers may contain _.
";

/// `16MiB`, `512KiB`, `1GB`, `100000` (bytes).
fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim().replace('_', "");
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: u64 = n.parse().ok()?;
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(scale)
}

/// `30s`, `15m`, `24h`, `7d`.
fn parse_age(text: &str) -> Option<Duration> {
    let t = text.trim().replace('_', "");
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: u64 = n.parse().ok()?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" | "" if n == 0 => 86_400,
        "d" => 86_400,
        _ => return None,
    };
    Some(Duration::from_secs(n.checked_mul(scale)?))
}

/// A token as given: not empty, and only what fits in an HTTP header.
fn token(text: String, what: &str) -> Result<String, String> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!(
            "{what}: a token is printable ASCII without spaces, and not empty"
        ));
    }
    Ok(text)
}

/// The tokens from the environment, where the command line gave none.
fn tokens_from_env(options: &mut Options) -> Result<(), String> {
    for (name, slot) in [
        ("USERTRAIL_READ_TOKEN", &mut options.tokens.read),
        ("USERTRAIL_INGEST_TOKEN", &mut options.tokens.ingest),
    ] {
        if slot.is_none()
            && let Ok(value) = std::env::var(name)
        {
            *slot = Some(token(value, name)?);
        }
    }
    Ok(())
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
    let mut options = Options::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |what: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs {what}"))
        };
        match name.as_str() {
            "-h" | "--help" => {
                print!("{HELP}");
                std::process::exit(0);
            }
            "--listen" => options.listen = value("an address, e.g. 127.0.0.1:4318")?,
            "--data-dir" => options.data_dir = PathBuf::from(value("a folder")?),
            "--read-token" => options.tokens.read = Some(token(value("a token")?, "--read-token")?),
            "--ingest-token" => {
                options.tokens.ingest = Some(token(value("a token")?, "--ingest-token")?);
            }
            "--store" => {
                let url = value("clickhouse://host:8123/database")?;
                if !url.starts_with("clickhouse://") {
                    return Err(format!(
                        "--store: `{url}` is not clickhouse://host:8123/database"
                    ));
                }
                options.store = Some(url);
            }
            "--max-body" => {
                let v = value("a size, e.g. 16MiB")?;
                options.max_body = parse_size(&v)
                    .and_then(|n| usize::try_from(n).ok())
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("--max-body: `{v}` is not a size, e.g. 16MiB"))?;
            }
            "--queue-spans" => {
                let v = value("a number")?;
                options.queue_spans = v
                    .replace('_', "")
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("--queue-spans: `{v}` is not a positive number"))?;
            }
            "--retention-age" => {
                let v = value("an age, e.g. 7d")?;
                let age = parse_age(&v)
                    .ok_or_else(|| format!("--retention-age: `{v}` is not an age, e.g. 7d"))?;
                options.retention.max_age = (!age.is_zero()).then_some(age);
            }
            "--retention-size" => {
                let v = value("a size, e.g. 10GiB")?;
                let size = parse_size(&v)
                    .ok_or_else(|| format!("--retention-size: `{v}` is not a size, e.g. 10GiB"))?;
                options.retention.max_bytes = (size > 0).then_some(size);
            }
            "--synthetic" => {
                let v = value("a number of spans")?;
                options.synthetic = v
                    .replace('_', "")
                    .parse()
                    .ok()
                    .filter(|n| *n <= 100_000_000)
                    .ok_or_else(|| format!("--synthetic: `{v}` is not a number of spans"))?;
            }
            "--monitor-interval" | "--webhook-backoff" => {
                let v = value("an age, e.g. 60s")?;
                let age = parse_age(&v)
                    .filter(|a| !a.is_zero())
                    .ok_or_else(|| format!("{name}: `{v}` is not an age, e.g. 60s"))?;
                if name == "--monitor-interval" {
                    options.monitor_interval = age;
                } else {
                    options.webhook_retry.first_delay = age;
                }
            }
            other => return Err(format!("unknown option `{other}` (see --help)")),
        }
    }
    Ok(options)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)).and_then(|mut options| {
        tokens_from_env(&mut options)?;
        Ok(options)
    }) {
        Ok(options) => options,
        Err(e) => {
            eprintln!("usertrail-explorer: {e}");
            return ExitCode::from(2);
        }
    };
    let store = options.store.clone().unwrap_or_else(|| {
        options
            .data_dir
            .join(server::STORE_FILE)
            .display()
            .to_string()
    });
    let ready = move |addr: std::net::SocketAddr| {
        println!("usertrail-explorer: store {store}");
        println!("usertrail-explorer: explorer http://{addr}/explorer");
        println!("usertrail-explorer: OTLP/HTTP http://{addr}/v1/traces");
        // One line for programs that start the service (tests, scripts).
        println!(
            "usertrail-explorer ready {}",
            serde_json::json!({ "url": format!("http://{addr}") })
        );
    };
    match server::run(options, ready, shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("usertrail-explorer: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_ages() {
        assert_eq!(parse_size("16MiB"), Some(16 << 20));
        assert_eq!(parse_size("1_000"), Some(1000));
        assert_eq!(parse_size("2GB"), Some(2_000_000_000));
        assert_eq!(parse_size("lots"), None);
        assert_eq!(parse_age("7d"), Some(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_age("90m"), Some(Duration::from_secs(5_400)));
        assert_eq!(parse_age("0"), Some(Duration::ZERO));
        assert_eq!(parse_age("7 weeks"), None);
    }

    #[test]
    fn no_options_is_the_defaults_and_options_change_them() {
        assert_eq!(parse_args(Vec::new()).unwrap(), Options::default());
        let o = parse_args(
            [
                "--listen=0.0.0.0:9000",
                "--retention-age",
                "0",
                "--retention-size=1GiB",
                "--queue-spans=10",
            ]
            .map(String::from),
        )
        .unwrap();
        assert_eq!(o.listen, "0.0.0.0:9000");
        assert_eq!(o.retention.max_age, None);
        assert_eq!(o.retention.max_bytes, Some(1 << 30));
        assert_eq!(o.queue_spans, 10);
        assert!(parse_args(["--queue-spans=0".to_string()]).is_err());
        assert!(parse_args(["--bogus".to_string()]).is_err());
        let o = parse_args(["--store=clickhouse://ch:8123/spans".to_string()]).unwrap();
        assert_eq!(o.store.as_deref(), Some("clickhouse://ch:8123/spans"));
        assert!(parse_args(["--store=mysql://x".to_string()]).is_err());
        let o = parse_args(["--monitor-interval=5s", "--webhook-backoff", "2s"].map(String::from))
            .unwrap();
        assert_eq!(o.monitor_interval, Duration::from_secs(5));
        assert_eq!(o.webhook_retry.first_delay, Duration::from_secs(2));
        assert!(parse_args(["--monitor-interval=0".to_string()]).is_err());
        assert!(parse_args(["--webhook-backoff=soon".to_string()]).is_err());
    }
}
