//! When things were last used (API keys, workspaces), gathered in memory and written in batches
//! by [`App::flush_last_used`](crate::App::flush_last_used), so that no request waits on a write
//! and no read path commits one.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

use projects_domain::Timestamp;

pub(crate) struct LastUsed<K> {
    pending: Mutex<HashMap<K, Timestamp>>,
}

impl<K> Default for LastUsed<K> {
    fn default() -> Self {
        Self { pending: Mutex::new(HashMap::new()) }
    }
}

impl<K: Eq + Hash> LastUsed<K> {
    pub(crate) fn record(&self, key: K, at: Timestamp) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.insert(key, at);
        }
    }

    pub(crate) fn take(&self) -> Vec<(K, Timestamp)> {
        self.pending.lock().map(|mut pending| pending.drain().collect()).unwrap_or_default()
    }
}
