//! Ingest off the request path: requests hand their spans to a bounded queue and wait for
//! the one writer thread, which stores whatever has queued up in one transaction, answers
//! every request in it, and enforces retention. A request is answered only once its spans
//! are committed, so an acknowledged span is never lost to a crash of this process.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError, sync_channel};
use std::thread;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::store::{Encoder, Retention, Span, SpanWriter};

/// How often retention is enforced.
const RETENTION_EVERY: Duration = Duration::from_secs(1);

/// Why spans were not taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// The queue holds as many spans as it may: try again later.
    Full,
    /// The writer has stopped.
    Closed,
}

struct Job {
    spans: Vec<Span>,
    /// The writer's [`Encoder`] text of each span, worked out by the submitting thread (empty
    /// without an encoder).
    encoded: Vec<String>,
    done: oneshot::Sender<Result<(), String>>,
}

/// The handle requests submit spans through; cheap to clone.
///
/// # Examples
///
/// ```
/// use usertrail_explorer::ingest::Ingest;
/// use usertrail_explorer::store::{Retention, sqlite::Writer, synth};
///
/// # let dir = std::env::temp_dir().join(format!("usertrail-ingest-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// let writer = Writer::open(&dir.join("spans.sqlite")).unwrap();
/// let ingest = Ingest::start(Box::new(writer), 10, Retention::default()).unwrap();
/// let mut spans = Vec::new();
/// synth::generate(5, 1, 0, 5, |chunk| spans.extend_from_slice(chunk));
/// let stored = ingest.submit(spans).unwrap();
/// assert_eq!(stored.blocking_recv().unwrap(), Ok(()));
/// assert_eq!(ingest.queued(), 0);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct Ingest {
    tx: SyncSender<Job>,
    queued: Arc<AtomicUsize>,
    capacity: usize,
    encoder: Option<Encoder>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("spans", &self.spans.len())
            .finish()
    }
}

impl Ingest {
    /// Starts the writer thread over `writer`, with room for `capacity` queued spans (at
    /// least one request is always taken when the queue is empty, however big).
    ///
    /// # Errors
    ///
    /// When the thread cannot be started.
    pub fn start(
        writer: Box<dyn SpanWriter>,
        capacity: usize,
        retention: Retention,
    ) -> std::io::Result<Self> {
        let capacity = capacity.max(1);
        // Each job holds at least one span, so the channel never holds more jobs than this.
        let (tx, rx) = sync_channel(capacity);
        let queued = Arc::new(AtomicUsize::new(0));
        let thread_queued = Arc::clone(&queued);
        let encoder = writer.encoder();
        thread::Builder::new()
            .name("ingest".into())
            .spawn(move || write_loop(writer, &rx, &thread_queued, retention))?;
        Ok(Ingest {
            tx,
            queued,
            capacity,
            encoder,
        })
    }

    /// Queues `spans`; the receiver says when they are stored (or why not).
    ///
    /// # Errors
    ///
    /// [`Refused::Full`] when the queue has no room for them, [`Refused::Closed`] when the
    /// writer is gone.
    pub fn submit(
        &self,
        spans: Vec<Span>,
    ) -> Result<oneshot::Receiver<Result<(), String>>, Refused> {
        let n = spans.len().max(1);
        let before = self.queued.fetch_add(n, Ordering::AcqRel);
        if before > 0 && before + n > self.capacity {
            self.queued.fetch_sub(n, Ordering::AcqRel);
            return Err(Refused::Full);
        }
        // Here, on the request's thread: the writer thread is the limit of ingest.
        let encoded = self
            .encoder
            .map(|encode| spans.iter().map(encode).collect())
            .unwrap_or_default();
        let (done, rx) = oneshot::channel();
        match self.tx.try_send(Job {
            spans,
            encoded,
            done,
        }) {
            Ok(()) => Ok(rx),
            Err(e) => {
                self.queued.fetch_sub(n, Ordering::AcqRel);
                Err(match e {
                    std::sync::mpsc::TrySendError::Full(_) => Refused::Full,
                    std::sync::mpsc::TrySendError::Disconnected(_) => Refused::Closed,
                })
            }
        }
    }

    /// Spans waiting to be written.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }
}

fn enforce(writer: &mut dyn SpanWriter, retention: &Retention) {
    if retention.max_age.is_none() && retention.max_bytes.is_none() {
        return;
    }
    if let Err(e) = writer.enforce(retention) {
        eprintln!("usertrail-explorer: retention: {e}");
    }
}

fn write_loop(
    mut writer: Box<dyn SpanWriter>,
    rx: &Receiver<Job>,
    queued: &AtomicUsize,
    retention: Retention,
) {
    enforce(&mut *writer, &retention);
    let mut last_retention = Instant::now();
    let mut jobs: Vec<Job> = Vec::new();
    let batch_spans = writer.batch_spans();
    let mut batch: Vec<Span> = Vec::with_capacity(batch_spans);
    let mut encoded: Vec<String> = Vec::new();
    loop {
        let first = match rx.recv_timeout(RETENTION_EVERY) {
            Ok(job) => job,
            Err(RecvTimeoutError::Timeout) => {
                enforce(&mut *writer, &retention);
                last_retention = Instant::now();
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let mut closed = false;
        let mut spans = first.spans.len();
        jobs.push(first);
        while spans < batch_spans {
            match rx.try_recv() {
                Ok(job) => {
                    spans += job.spans.len();
                    jobs.push(job);
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    closed = true;
                    break;
                }
            }
        }
        let mut taken = 0;
        for job in &mut jobs {
            taken += job.spans.len().max(1);
            batch.append(&mut job.spans);
            encoded.append(&mut job.encoded);
        }
        let result = writer
            .insert_encoded(&batch, &encoded)
            .map_err(|e| e.to_string());
        if let Err(e) = &result {
            eprintln!("usertrail-explorer: {} spans not stored: {e}", batch.len());
        }
        batch.clear();
        encoded.clear();
        queued.fetch_sub(taken, Ordering::AcqRel);
        for job in jobs.drain(..) {
            // A request that gave up waiting is no reason to stop.
            let _ = job.done.send(result.clone());
        }
        if last_retention.elapsed() >= RETENTION_EVERY {
            enforce(&mut *writer, &retention);
            last_retention = Instant::now();
        }
        if closed {
            return;
        }
    }
}
