//! Graceful drain: set by the server on SIGTERM/SIGINT, read by every response (the last
//! one on a connection says `Connection: close`).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// Graceful drain state: set on SIGTERM/SIGINT, read by every response.
#[derive(Default)]
pub struct Drain {
    pub draining: AtomicBool,
    pub connections: Arc<AtomicUsize>,
}

impl Drain {
    pub fn draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }
}
