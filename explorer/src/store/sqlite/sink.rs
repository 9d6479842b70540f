//! [`StoreSink`]: a `SpanSink` that hands spans to a background thread, which writes them to
//! the store in batches. The request path only pushes onto a bounded channel.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError, sync_channel};
use std::thread;
use std::time::{Duration, Instant};

use usertrail_propagator::tracing::{SpanRecord, SpanSink};

use super::{Result, Span, SpanWriter, Writer};

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
    tx: SyncSender<SpanRecord>,
    stats: Arc<Stats>,
}

#[derive(Debug, Default)]
struct Stats {
    dropped: AtomicU64,
    written: AtomicU64,
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
            .map_err(|e| super::StoreError::new(format!("span store thread: {e}")))?;
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
}

impl SpanSink for StoreSink {
    fn record(&self, span: SpanRecord) {
        match self.tx.try_send(span) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

fn write_loop(mut writer: Writer, rx: &Receiver<SpanRecord>, stats: &Stats) {
    let mut batch: Vec<Span> = Vec::with_capacity(BATCH);
    let mut last_optimize = Instant::now();
    // Blocks for the first span of a batch, then takes whatever else has queued meanwhile.
    while let Ok(first) = rx.recv() {
        batch.push(Span::from_record(&first));
        let mut closed = false;
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(span) => batch.push(Span::from_record(&span)),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    closed = true;
                    break;
                }
            }
        }
        match writer.insert(&batch) {
            Ok(()) => {
                stats
                    .written
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
            }
            Err(e) => eprintln!("usertrail-demo: {} spans not stored: {e}", batch.len()),
        }
        batch.clear();
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
