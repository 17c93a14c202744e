//! One writer at a time per workspace on this node. Writers of one workspace on one node take
//! turns in arrival order instead of all planning on the same head and all but one losing the
//! compare-and-swap: a crowd of a thousand callers is a queue, not a thousand retries each. The
//! compare-and-swap on the head stays the rule between nodes; this only keeps a node from racing
//! itself. Memory follows the workspaces being written right now, not all ever written.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{Mutex as Turn, OwnedMutexGuard};

#[derive(Default)]
pub(crate) struct WriterQueues {
    queues: Mutex<HashMap<String, Arc<Turn<()>>>>,
}

/// A writer's turn at a workspace; the next writer in line goes when it is dropped.
pub(crate) struct WriterTurn<'a> {
    queues: &'a WriterQueues,
    workspace_ref: String,
    queue: Arc<Turn<()>>,
    turn: Option<OwnedMutexGuard<()>>,
    /// Whether another writer of this node went first, so the head read before may be stale.
    pub(crate) waited: bool,
}

impl WriterQueues {
    /// Waits for this node's earlier writers of `workspace_ref` to finish.
    pub(crate) async fn enter(&self, workspace_ref: &str) -> WriterTurn<'_> {
        let queue = Arc::clone(self.lock().entry(workspace_ref.to_owned()).or_default());
        let (turn, waited) = match Arc::clone(&queue).try_lock_owned() {
            Ok(turn) => (turn, false),
            Err(_) => (Arc::clone(&queue).lock_owned().await, true),
        };
        WriterTurn { queues: self, workspace_ref: workspace_ref.to_owned(), queue, turn: Some(turn), waited }
    }

    /// Workspaces with a writer in or waiting for its turn.
    #[cfg(test)]
    fn busy(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Turn<()>>>> {
        // The map is consistent at every await point, so a panic elsewhere cannot poison it.
        self.queues.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for WriterTurn<'_> {
    fn drop(&mut self) {
        drop(self.turn.take());
        let mut queues = self.queues.lock();
        // Under the map's lock nobody can pick the queue up: if only the map and this turn hold
        // it, nobody waits, and the entry goes.
        if Arc::strong_count(&self.queue) == 2 {
            queues.remove(&self.workspace_ref);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writers_of_one_workspace_take_turns_and_leave_nothing_behind() {
        let queues = Arc::new(WriterQueues::default());
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let waited = Arc::new(AtomicUsize::new(0));
        let writers: Vec<_> = (0..200)
            .map(|n| {
                let (queues, inside, most, waited) =
                    (Arc::clone(&queues), Arc::clone(&inside), Arc::clone(&most), Arc::clone(&waited));
                tokio::spawn(async move {
                    let workspace = if n % 2 == 0 { "even" } else { "odd" };
                    let turn = queues.enter(workspace).await;
                    if turn.waited {
                        waited.fetch_add(1, Ordering::SeqCst);
                    }
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                    inside.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for writer in writers {
            writer.await.unwrap();
        }
        assert!(most.load(Ordering::SeqCst) <= 2, "at most one writer per workspace at a time");
        assert!(waited.load(Ordering::SeqCst) > 0, "the crowd queued");
        assert_eq!(queues.busy(), 0, "no queue is left once its writers are done");
    }

    #[tokio::test]
    async fn a_writer_that_gives_up_waiting_leaves_the_line() {
        let queues = WriterQueues::default();
        let first = queues.enter("ws").await;
        let gave_up = tokio::time::timeout(std::time::Duration::from_millis(10), queues.enter("ws")).await;
        assert!(gave_up.is_err(), "the second writer waits for the first");
        drop(first);
        assert_eq!(queues.busy(), 0);
        assert!(!queues.enter("ws").await.waited, "nobody is ahead any more");
    }
}
