//! What a span sink says when it is flushed: the demo prints it on the way out.

use std::fmt;
use std::ops::AddAssign;

/// Spans a sink wrote (stored or exported) during a flush, and spans it lost over its whole
/// life: dropped on a full queue, refused by the collector, or still waiting when the flush
/// timed out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flushed {
    /// Written by the flush (they were waiting in the sink's queue or batch).
    pub flushed: u64,
    /// Lost, in all.
    pub dropped: u64,
    /// Written over the sink's life, the flush included.
    pub written: u64,
}

impl AddAssign for Flushed {
    fn add_assign(&mut self, other: Flushed) {
        self.flushed += other.flushed;
        self.dropped += other.dropped;
        self.written += other.written;
    }
}

impl fmt::Display for Flushed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} spans flushed, {} dropped ({} written in all)",
            self.flushed, self.dropped, self.written
        )
    }
}
