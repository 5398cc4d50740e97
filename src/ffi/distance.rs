//! C ABI of [`crate::distance`].
