//! Benches of the L2 distance kernels (filled in with the kernels).
fn main() {}
