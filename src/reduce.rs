//! MM (composite transportation) reduction of a weighted Gaussian mixture to K components.
