//! The contract between the runner and anything that follows the event log.

use async_trait::async_trait;
use freshet_store::Tx;

use crate::decode::DecodedEvent;
use crate::error::ProcessorError;

/// Follows every event in global order and writes its effects in the runner's transaction.
///
/// The runner reads a page of events after the processor's checkpoint, decodes them, begins
/// a transaction, checks that the checkpoint has not moved, calls [`Processor::handle`], writes
/// the new checkpoint and commits. Rows and checkpoint commit together, so after a crash a
/// batch is either wholly applied or wholly retried: no event is applied twice or skipped.
///
/// Implementations must only write through `tx` and must be deterministic on the events
/// (no clock reads for row contents: use `record.recorded_at`). A failed `handle` rolls the
/// batch back; keep in-memory caches consistent with that (or self-healing).
#[async_trait]
pub trait Processor: Send + Sync + std::fmt::Debug {
    /// Stable name: the checkpoint key. Never change it once deployed.
    fn name(&self) -> &str;

    /// Applies `events` (in global order, never empty) inside `tx`.
    async fn handle(&self, tx: &mut Tx, events: &[DecodedEvent]) -> Result<(), ProcessorError>;
}
