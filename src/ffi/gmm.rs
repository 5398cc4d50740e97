//! C ABI of [`crate::gmm`].
