//! The places for open inbox event streams: a few per person, a bounded number in all, so
//! that no one client (or all of them) can hold every connection and task of a process. A
//! place is held by the stream's [`StreamSlot`] and given back when the stream is dropped
//! (the client went away, its token stopped working, or the server shuts down).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use freshet_domain::UserId;

use crate::error::ApiError;

#[derive(Debug)]
pub(crate) struct StreamSlots {
    per_user: usize,
    total: usize,
    open: Mutex<Open>,
}

#[derive(Debug, Default)]
struct Open {
    total: usize,
    by_user: HashMap<UserId, usize>,
}

/// One open stream's place; dropping it frees the place.
#[derive(Debug)]
pub(crate) struct StreamSlot {
    slots: Arc<StreamSlots>,
    user: UserId,
}

impl StreamSlots {
    pub(crate) fn new(per_user: usize, total: usize) -> Arc<Self> {
        Arc::new(Self {
            per_user,
            total,
            open: Mutex::new(Open::default()),
        })
    }

    /// A place for one more stream of `user`: refused when they have as many as one person
    /// may (429) or the process serves as many as it may (503).
    pub(crate) fn take(self: &Arc<Self>, user: UserId) -> Result<StreamSlot, ApiError> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let mine = open.by_user.get(&user).copied().unwrap_or(0);
        if mine >= self.per_user {
            return Err(ApiError::TooManyStreams {
                limit: self.per_user,
            });
        }
        if open.total >= self.total {
            return Err(ApiError::StreamCapacity);
        }
        open.total += 1;
        open.by_user.insert(user, mine + 1);
        Ok(StreamSlot {
            slots: Arc::clone(self),
            user,
        })
    }

    /// Streams open now.
    #[cfg(test)]
    fn open(&self) -> usize {
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .total
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self
            .slots
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        open.total = open.total.saturating_sub(1);
        if let Some(mine) = open.by_user.get_mut(&self.user) {
            *mine = mine.saturating_sub(1);
            if *mine == 0 {
                open.by_user.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use freshet_testkit::user;

    #[test]
    fn places_are_capped_per_person_and_in_all_and_given_back_on_drop() {
        let slots = StreamSlots::new(2, 3);
        let a1 = slots.take(user(1)).unwrap();
        let _a2 = slots.take(user(1)).unwrap();
        assert!(matches!(
            slots.take(user(1)),
            Err(ApiError::TooManyStreams { limit: 2 })
        ));
        let _b1 = slots.take(user(2)).unwrap();
        assert!(matches!(slots.take(user(3)), Err(ApiError::StreamCapacity)));
        drop(a1);
        assert_eq!(slots.open(), 2);
        let _c1 = slots.take(user(3)).unwrap();
        assert_eq!(slots.open(), 3);
    }
}
