//! `usertrail-demo`: starts the shop, the explorer, checkout, payments and the third party.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use usertrail_www::app::{self, Addresses, Options};

const HELP: &str = "\
usertrail-demo: the usertrail demo shop, its services and the trace explorer

USAGE: usertrail-demo [OPTIONS]

OPTIONS:
  --host ADDR              listen address (default 127.0.0.1)
  --shop-port N            shop and explorer (default 8080)
  --checkout-port N        checkout service (default 8081)
  --payments-port N        payments service (default 8082)
  --third-party-port N     third-party origin (default 8083)
  --any-ports              pick free ports for all four (printed at start)
  --data-dir DIR           where spans.sqlite lives (default .demo-data)
  --static-dir DIR         the page files (default www/static)
  --pkg-dir DIR            the built SDK (default dist)
  --synthetic N            add N synthetic spans of history to the store at start
  --shipping-url URL       the Python shipping service (www/shipping) checkout asks for a
                           quote after each payment (scripts/demo starts it); without it,
                           orders have no quote
  --exit-with-stdin        exit when standard input closes (for test harnesses)
  --shutdown-timeout SECS  on Ctrl-C / SIGTERM: how long requests in flight may take,
                           then how long queued spans may take to be written (default 5)
  -h, --help               this text

ENVIRONMENT:
  OTEL_EXPORTER_OTLP_ENDPOINT   export spans over OTLP/HTTP to this endpoint instead of
                                the local store (e.g. http://127.0.0.1:4318)
  OTEL_RESOURCE_ATTRIBUTES      with OTLP: resource attributes added to both services'
                                (e.g. deployment.environment.name=staging)
";

fn parse_args() -> Result<(Options, bool), String> {
    let mut options = Options::default();
    let mut exit_with_stdin = false;
    let mut args = std::env::args().skip(1);
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
        let port = |v: String| {
            v.parse::<u16>()
                .map_err(|_| format!("{name}: `{v}` is not a port"))
        };
        match name.as_str() {
            "-h" | "--help" => {
                print!("{HELP}");
                std::process::exit(0);
            }
            "--host" => options.host = value("an address")?,
            "--shop-port" => options.shop_port = port(value("a port")?)?,
            "--checkout-port" => options.checkout_port = port(value("a port")?)?,
            "--payments-port" => options.payments_port = port(value("a port")?)?,
            "--third-party-port" => options.third_party_port = port(value("a port")?)?,
            "--any-ports" => {
                options.shop_port = 0;
                options.checkout_port = 0;
                options.payments_port = 0;
                options.third_party_port = 0;
            }
            "--data-dir" => options.data_dir = PathBuf::from(value("a folder")?),
            "--static-dir" => options.static_dir = PathBuf::from(value("a folder")?),
            "--pkg-dir" => options.pkg_dir = PathBuf::from(value("a folder")?),
            "--shipping-url" => options.shipping_url = Some(value("a URL")?),
            "--synthetic" => {
                let v = value("a number")?;
                options.synthetic = v
                    .replace('_', "")
                    .parse()
                    .map_err(|_| format!("--synthetic: `{v}` is not a number"))?;
            }
            "--exit-with-stdin" => exit_with_stdin = true,
            "--shutdown-timeout" => {
                let v = value("seconds")?;
                options.shutdown_timeout = v
                    .parse::<f64>()
                    .ok()
                    .and_then(|s| Duration::try_from_secs_f64(s).ok())
                    .ok_or_else(|| {
                        format!("--shutdown-timeout: `{v}` is not a number of seconds")
                    })?;
            }
            other => return Err(format!("unknown option `{other}` (see --help)")),
        }
    }
    Ok((options, exit_with_stdin))
}

fn banner(a: &Addresses, spans: &str) {
    let shop = format!("http://{}", a.shop);
    println!();
    println!("  usertrail demo is running");
    println!();
    println!(
        "  shop          {:<34} sign in, browse, check out",
        format!("{shop}/")
    );
    println!(
        "  explorer      {:<34} which users did it hurt?",
        format!("{shop}/explorer")
    );
    println!(
        "  checkout      {:<34} service `checkout` (the API the page calls)",
        format!("http://{}", a.checkout)
    );
    println!(
        "  payments      {:<34} service `payments` (called by checkout)",
        format!("http://{}", a.payments)
    );
    println!(
        "  third party   {:<34} not in allowedTracingUrls: gets no headers",
        format!("http://{}", a.third_party)
    );
    println!("  spans         {spans}");
    println!();
    let traffic = if shop == "http://127.0.0.1:8080" {
        "npm run demo:traffic".to_owned()
    } else {
        format!("npm run demo:traffic -- --url {shop}")
    };
    println!("  traffic:  {traffic}    stop: Ctrl-C");
    println!();
    // One line for programs that start the demo (tests, the traffic script).
    println!(
        "usertrail-demo ready {}",
        serde_json::json!({
            "shop": format!("http://{}", a.shop),
            "explorer": format!("http://{}/explorer", a.shop),
            "checkout": format!("http://{}", a.checkout),
            "payments": format!("http://{}", a.payments),
            "third_party": format!("http://{}", a.third_party),
        })
    );
}

async fn shutdown_signal(exit_with_stdin: bool) {
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
    let stdin_closed = async {
        if exit_with_stdin {
            let _ = tokio::task::spawn_blocking(|| {
                let mut buf = [0u8; 256];
                let mut stdin = std::io::stdin();
                while matches!(stdin.read(&mut buf), Ok(n) if n > 0) {}
            })
            .await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
        () = stdin_closed => {}
    }
    println!("usertrail-demo: stopping (Ctrl-C again to exit without writing the queued spans)");
    tokio::spawn(async {
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("usertrail-demo: stopped without waiting");
        std::process::exit(130);
    });
}

#[tokio::main]
async fn main() -> ExitCode {
    // Returns only on bad arguments; otherwise exits from inside (see the end).
    let (options, exit_with_stdin) = match parse_args() {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("usertrail-demo: {e}");
            return ExitCode::from(2);
        }
    };
    if !options.pkg_dir.join("index.js").exists() {
        eprintln!(
            "usertrail-demo: {} has no built package; run scripts/build first",
            options.pkg_dir.display()
        );
        return ExitCode::FAILURE;
    }
    let code = match app::run(options, banner, shutdown_signal(exit_with_stdin)).await {
        Ok(_flushed) => 0,
        Err(e) => {
            eprintln!("usertrail-demo: {e}");
            1
        }
    };
    // Spans are written and the line printed: exit now rather than wait, on the way out of
    // the runtime, for the thread that may still be blocked reading standard input.
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    std::process::exit(code)
}
