//! [`StoreSink`]: a `SpanSink` that hands spans to a background thread, which writes them to
//! the store in batches. The request path only pushes onto a bounded channel; shutdown
//! flushes what is queued ([`StoreSink::flush`]).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError, sync_channel};
use std::thread;
use std::time::{Duration, Instant};

use usertrail_propagator::tracing::{SpanRecord, SpanSink};

use usertrail_explorer::store::sqlite::Writer;
use usertrail_explorer::store::{Result, Span, SpanWriter, StoreError};

use crate::flush::Flushed;

/// What the writer thread is sent: a span, or a flush to acknowledge once every span sent
/// before it is written.
enum Msg {
    Span(SpanRecord),
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// Spans waiting for the writer thread; past that, new spans are dropped (and counted)
/// rather than slowing requests down.
const QUEUE: usize = 65_536;
/// Spans per transaction at most.
const BATCH: usize = 2_048;
/// How often the planner's statistics are refreshed.
const OPTIMIZE_EVERY: Duration = Duration::from_secs(30);

/// A [`SpanSink`] that stores spans in the SQLite store without blocking: `record` puts the
/// span on a bounded queue, and one background thread writes what has queued up in one
/// transaction per batch (a span is readable a few milliseconds after it closes).
#[derive(Debug)]
pub struct StoreSink {
    tx: SyncSender<Msg>,
    stats: Arc<Stats>,
}

#[derive(Debug, Default)]
struct Stats {
    accepted: AtomicU64,
    dropped: AtomicU64,
    written: AtomicU64,
    failed: AtomicU64,
}

impl StoreSink {
    /// Opens the store at `path` and starts the writer thread. The thread ends when every
    /// clone of the sink is dropped, after writing what was queued.
    ///
    /// # Errors
    ///
    /// When the store cannot be opened.
    pub fn start(path: &Path) -> Result<Self> {
        let writer = Writer::open(path)?;
        let (tx, rx) = sync_channel(QUEUE);
        let stats = Arc::new(Stats::default());
        let thread_stats = Arc::clone(&stats);
        thread::Builder::new()
            .name("span-store".into())
            .spawn(move || write_loop(writer, &rx, &thread_stats))
            .map_err(|e| StoreError::new(format!("span store thread: {e}")))?;
        Ok(StoreSink { tx, stats })
    }

    /// Spans dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.stats.dropped.load(Ordering::Relaxed)
    }

    /// Spans written so far.
    pub fn written(&self) -> u64 {
        self.stats.written.load(Ordering::Relaxed)
    }

    /// Writes every span recorded before the call, waiting at most `timeout`; spans still
    /// queued then count as dropped.
    pub async fn flush(&self, timeout: Duration) -> Flushed {
        let before = self.written();
        let (ack, acked) = tokio::sync::oneshot::channel();
        let tx = self.tx.clone();
        // `send` waits while the queue is full, so it runs off the runtime's threads.
        let sent = tokio::task::spawn_blocking(move || tx.send(Msg::Flush(ack)).is_ok());
        let _ = tokio::time::timeout(timeout, async {
            if sent.await.unwrap_or(false) {
                let _ = acked.await;
            }
        })
        .await;
        let written = self.written();
        let lost =
            self.stats.dropped.load(Ordering::Relaxed) + self.stats.failed.load(Ordering::Relaxed);
        let pending = self
            .stats
            .accepted
            .load(Ordering::Relaxed)
            .saturating_sub(written + self.stats.failed.load(Ordering::Relaxed));
        Flushed {
            flushed: written - before,
            dropped: lost + pending,
            written,
        }
    }
}

impl SpanSink for StoreSink {
    fn record(&self, span: SpanRecord) {
        match self.tx.try_send(Msg::Span(span)) {
            Ok(()) => {
                self.stats.accepted.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

fn write_loop(mut writer: Writer, rx: &Receiver<Msg>, stats: &Stats) {
    let mut batch: Vec<Span> = Vec::with_capacity(BATCH);
    let mut last_optimize = Instant::now();
    // Blocks for the first message of a batch, then takes whatever else has queued meanwhile.
    while let Ok(first) = rx.recv() {
        let mut acks = Vec::new();
        match first {
            Msg::Span(span) => batch.push(Span::from_record(&span)),
            Msg::Flush(ack) => acks.push(ack),
        }
        let mut closed = false;
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(Msg::Span(span)) => batch.push(Span::from_record(&span)),
                Ok(Msg::Flush(ack)) => acks.push(ack),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    closed = true;
                    break;
                }
            }
        }
        if !batch.is_empty() {
            let n = batch.len() as u64;
            match writer.insert(&batch) {
                Ok(()) => stats.written.fetch_add(n, Ordering::Relaxed),
                Err(e) => {
                    eprintln!("usertrail-demo: {n} spans not stored: {e}");
                    stats.failed.fetch_add(n, Ordering::Relaxed)
                }
            };
        }
        batch.clear();
        // Every span sent before these flushes was in this batch or an earlier one.
        for ack in acks {
            let _ = ack.send(());
        }
        if last_optimize.elapsed() > OPTIMIZE_EVERY {
            // Keeps the planner's statistics in line with the data as it grows.
            let _ = writer.optimize();
            last_optimize = Instant::now();
        }
        if closed {
            break;
        }
    }
}
