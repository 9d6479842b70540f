//! Notifications off the evaluation path: evaluation hands each one to a bounded queue, and
//! one delivery thread POSTs it (5 s timeout), retrying a failure (a connection error or a
//! status other than 2xx) after 1 s, 2 s, 4 s… up to [`Retry::attempts`] attempts. Every
//! failed attempt is reported, for the monitor's page.

use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::time::{Duration, Instant};

/// Notifications waiting to be delivered at most (beyond that a notification is dropped, and
/// reported as such).
pub const QUEUE: usize = 1_000;
/// How long one POST may take.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// How a failed delivery is retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retry {
    /// Attempts in all, the first one included (5).
    pub attempts: u32,
    /// The wait before the first retry, doubled before each next one (1 s).
    pub first_delay: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 5,
            first_delay: Duration::from_secs(1),
        }
    }
}

impl Retry {
    /// The wait after failed attempt `attempt` (1-based): `first_delay × 2^(attempt-1)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use usertrail_explorer::monitor::webhook::Retry;
    ///
    /// let r = Retry::default();
    /// assert_eq!(r.delay(1), Duration::from_secs(1));
    /// assert_eq!(r.delay(3), Duration::from_secs(4));
    /// ```
    pub fn delay(&self, attempt: u32) -> Duration {
        self.first_delay
            .saturating_mul(1 << attempt.saturating_sub(1).min(16))
    }
}

/// One notification to deliver.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// Whose.
    pub monitor_id: u64,
    /// Where to.
    pub url: String,
    /// The JSON body.
    pub body: String,
    /// What it says, for the failure list (`premium_acme: OK → ALERT`).
    pub summary: String,
}

/// One failed attempt.
#[derive(Clone, Debug)]
pub struct Failure {
    /// Whose.
    pub monitor_id: u64,
    /// What the notification said.
    pub summary: String,
    /// 1-based.
    pub attempt: u32,
    /// `HTTP 500`, or the connection's error.
    pub error: String,
    /// Whether this was the last attempt.
    pub gave_up: bool,
}

/// Hands notifications to the delivery thread; cheap to clone.
#[derive(Clone, Debug)]
pub struct Sender {
    tx: SyncSender<Delivery>,
}

impl Sender {
    /// Starts the delivery thread; `report` hears of each failed attempt.
    ///
    /// # Errors
    ///
    /// When the thread cannot be started.
    pub fn start(
        retry: Retry,
        report: impl Fn(Failure) + Send + 'static,
    ) -> std::io::Result<Sender> {
        let (tx, rx) = sync_channel(QUEUE);
        std::thread::Builder::new()
            .name("webhooks".into())
            .spawn(move || deliver_loop(&rx, retry, &report))?;
        Ok(Sender { tx })
    }

    /// Queues `delivery`.
    ///
    /// # Errors
    ///
    /// The delivery back when the queue is full or the thread has stopped.
    #[allow(clippy::result_large_err)]
    pub fn send(&self, delivery: Delivery) -> Result<(), Delivery> {
        self.tx.try_send(delivery).map_err(|e| match e {
            TrySendError::Full(d) | TrySendError::Disconnected(d) => d,
        })
    }
}

struct Pending {
    due: Instant,
    attempt: u32,
    delivery: Delivery,
}

fn deliver_loop(rx: &Receiver<Delivery>, retry: Retry, report: &dyn Fn(Failure)) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .http_status_as_error(false)
        .build()
        .into();
    let mut pending: Vec<Pending> = Vec::new();
    let mut open = true;
    while open || !pending.is_empty() {
        let now = Instant::now();
        let wait = pending
            .iter()
            .map(|p| p.due.saturating_duration_since(now))
            .min()
            .unwrap_or(Duration::from_secs(3600));
        // Retries wait here, new notifications in the channel: at most QUEUE of each.
        if open && pending.len() < QUEUE {
            match rx.recv_timeout(wait) {
                Ok(d) => pending.push(Pending {
                    due: Instant::now(),
                    attempt: 1,
                    delivery: d,
                }),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => open = false,
            }
        } else {
            std::thread::sleep(wait);
        }
        let now = Instant::now();
        let (due, later): (Vec<Pending>, Vec<Pending>) =
            pending.drain(..).partition(|p| p.due <= now);
        pending = later;
        for mut p in due {
            let Err(error) = post(&agent, &p.delivery) else {
                continue;
            };
            let gave_up = p.attempt >= retry.attempts.max(1);
            report(Failure {
                monitor_id: p.delivery.monitor_id,
                summary: p.delivery.summary.clone(),
                attempt: p.attempt,
                error,
                gave_up,
            });
            if !gave_up {
                p.due = Instant::now() + retry.delay(p.attempt);
                p.attempt += 1;
                pending.push(p);
            }
        }
    }
}

/// One POST: `Ok` for a 2xx.
fn post(agent: &ureq::Agent, d: &Delivery) -> Result<(), String> {
    let response = agent
        .post(&d.url)
        .header("content-type", "application/json")
        .header("user-agent", "usertrail-explorer monitors")
        .send(d.body.as_str())
        .map_err(|e| e.to_string())?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("HTTP {}", status.as_u16()))
    }
}
